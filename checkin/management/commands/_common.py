from django.core.management.base import CommandError

from checkin.models import Event


def event_for(organizer: str, event: str) -> Event:
    found = Event.objects.filter(organizer__slug=organizer, slug=event).select_related("organizer").first()
    if found is None:
        raise CommandError(f"No event '{event}' of organizer '{organizer}'.")
    return found
