/* The printable claim sheet's "Print" button (no inline handler: the CSP refuses those). */
document.getElementById("print-sheet").addEventListener("click", () => window.print());
