// Buttons marked data-print open the print dialog (no inline onclick: the Content-Security-Policy forbids it).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
