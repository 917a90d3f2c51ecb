"""The sweeper's schedule: one row naming the one sweep that is due next."""

from django.db import models


class SweepSchedule(models.Model):
    """The single row (pk 1) that names the next scheduled sweep.

    Whoever schedules a sweep locks this row first (FOR UPDATE on PostgreSQL; SQLite's
    IMMEDIATE transactions serialise writers), so workers on several machines sharing one
    database never schedule two.
    """

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK)
    task_result_id = models.CharField(
        max_length=64, blank=True, default="", help_text="The scheduled sweep's task result."
    )
    run_after = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sweep schedule"

    def __str__(self) -> str:
        return f"next sweep {self.task_result_id or '-'} after {self.run_after}"
