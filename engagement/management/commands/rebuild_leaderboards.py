from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from engagement.leaderboards import index, redis_index


class Command(BaseCommand):
    help = (
        "Rebuild the leaderboards' derived data from the ledger: the SQL totals and rank histograms, then (with "
        "ENGAGEMENT_LEADERBOARD_REDIS) the Redis index. Safe to rerun; boards answer from SQL meanwhile."
    )

    def add_arguments(self, parser):
        parser.add_argument("--redis-only", action="store_true", help="Keep the SQL totals; rebuild Redis from them.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *, redis_only: bool, no_progress: bool, **options) -> str:
        parts = []
        if not redis_only:
            parts.append(f"{index.rebuild_totals()} SQL total row(s) with their rank histograms")
        if redis_index.enabled():
            bar = tqdm(total=index.index_size(), unit="row", disable=no_progress, file=self.stderr._out)
            try:
                late = index.rebuild_index(tick=bar.update)
            except redis_index.redis.RedisError as exc:
                raise CommandError(f"Redis is unavailable ({exc}); boards keep answering from SQL.") from exc
            finally:
                bar.close()
            parts.append(f"the Redis index ({late} member(s) reindexed for writes made meanwhile)")
        elif redis_only:
            raise CommandError("The Redis index is not enabled (set REDIS_URL / ENGAGEMENT_LEADERBOARD_REDIS).")
        return f"Rebuilt {' and '.join(parts)}."
