from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.loader import render_to_string

from points_bridge.models import ClaimTemplate
from points_bridge.views import sheet_cards


class Command(BaseCommand):
    help = "Write a printable HTML sheet of claim QR codes (all usable templates, or --ids). Safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument("output", type=Path, help="Where to write the HTML file.")
        parser.add_argument("--ids", type=str, default="", help="Comma-separated template ids (default: all enabled).")

    def handle(self, *, output: Path, ids: str, **options) -> str:
        templates = ClaimTemplate.objects.alive().select_related("activity")
        if ids:
            try:
                templates = templates.filter(pk__in=[int(i) for i in ids.split(",") if i.strip()])
            except ValueError:
                raise CommandError("--ids must be comma-separated numbers") from None
        else:
            templates = templates.filter(enabled=True)
        if not templates:
            raise CommandError("No claim templates to print.")
        cards = sheet_cards(templates)
        output.write_text(render_to_string("points_bridge/claim_sheet.html", {"cards": cards}), encoding="utf-8")
        return f"Wrote {len(cards)} claim code(s) to {output}."
