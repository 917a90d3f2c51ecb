from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from catalog.models import Product
from inventory import reasons
from inventory.kinds import kind_choices
from inventory.rules import is_available, is_low_stock
from techparts.actors import SOURCE_ADMIN, SOURCE_API, SOURCE_SYSTEM
from techparts.database.positions import WritingTransaction  # also read by migration 0008
from techparts.money import DECIMAL_PLACES, PRICE_MAX_DIGITS

# The most units of one product the store holds: the range the API accepts and reports, and
# the range every stock service (and the database) keeps on-hand counts in.
MAX_ON_HAND = 9999


class StockRecord(models.Model):
    """Units of one product: held (`on_hand`) and promised to open orders (`reserved`).

    Changed only by `inventory.services`, which writes a ledger row in the same transaction.
    """

    product = models.OneToOneField(Product, on_delete=models.PROTECT, related_name="stock")
    on_hand = models.PositiveIntegerField(default=0, editable=False)
    reserved = models.PositiveIntegerField(default=0, editable=False)
    low_stock_threshold = models.PositiveIntegerField(
        default=5, help_text="Available units at or below this count are 'low stock'."
    )
    updated_at = models.DateTimeField(auto_now=True)
    # When the shelf was last counted: the count time of the latest posted cycle count line
    # (inventory.counts). Never counted: empty.
    last_counted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Goes up by exactly one with each ledger row of this record, in the stock UPDATE that
    # writes the row (inventory.services), under the record's row lock: version v is written
    # only after v - 1 committed. Consumers apply a change only if its version is newer than
    # the one they hold (docs/sync.md). Records that existed before versions started at their
    # count of ledger rows (migration 0014).
    version = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "stock level"
        permissions = [("correct_stock", "Can correct stock (audited, with a reason)")]
        constraints = [
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_gte_0"),
            models.CheckConstraint(
                condition=Q(on_hand__lte=MAX_ON_HAND), name="stock_on_hand_lte_max"
            ),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_lte_on_hand"
            ),
        ]

    def __str__(self) -> str:
        # The product alone: the admin shows this in titles and messages, also to a clerk
        # counting the product blind (inventory.counts), who must not read its counts there.
        return f"Stock of {self.product.sku}"

    def save(self, *args, **kwargs):
        # An existing record's counts change only through inventory.services (row lock +
        # ledger row). A plain save (admin form, shell) writes the threshold alone, so a stale
        # in-memory copy can never overwrite counts that changed meanwhile.
        # The threshold is part of what readers see (low_stock), so it moves updated_at too.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = ["low_stock_threshold", "updated_at"]
        super().save(*args, **kwargs)

    @property
    def available(self) -> int:
        return is_available(self.on_hand, self.reserved)

    @property
    def is_low(self) -> bool:
        return is_low_stock(self.available, self.low_stock_threshold)


class ImmutableLedgerError(Exception):
    """Ledger rows are append-only."""


class StockMovementQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableLedgerError("Stock ledger rows cannot be updated.")

    def delete(self):
        raise ImmutableLedgerError("Stock ledger rows cannot be deleted.")

    _raw_delete = delete


class StockMovement(models.Model):
    """One append-only row of the stock ledger: what changed, by how much, who, why."""

    # One member per entry of inventory.kinds.KINDS (Kind.CORRECTION == "correction", ...).
    Kind = models.TextChoices(
        "Kind",
        [(value.upper(), (value, label)) for value, label in kind_choices()],
        module=__name__,
        qualname="StockMovement.Kind",
    )

    class Source(models.TextChoices):
        ADMIN = SOURCE_ADMIN, "Admin"
        API = SOURCE_API, "API"
        SYSTEM = SOURCE_SYSTEM, "System"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    on_hand_delta = models.IntegerField()
    reserved_delta = models.IntegerField()
    on_hand_after = models.PositiveIntegerField()
    reserved_after = models.PositiveIntegerField()
    # The product's unit cost when the units moved (catalog.Product.unit_cost), so a row's
    # value stays exact after the cost changes. Null: unknown (older rows, products without
    # a cost); a value report counts such units as of unknown value, never as worth 0.
    unit_cost = models.DecimalField(
        max_digits=PRICE_MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True
    )
    reason = models.CharField(max_length=500, blank=True)
    reason_code = models.CharField(
        max_length=reasons.MAX_LENGTH,
        choices=reasons.reason_code_choices(),
        # Rows written before the column existed keep this (the ledger is never rewritten).
        db_default=reasons.UNSPECIFIED,
    )
    reference = models.CharField(max_length=500, blank=True, db_index=True)
    # Shared by every row one business action wrote together (a bulk call, a count posting).
    adjustment_group = models.UUIDField(null=True, blank=True, db_index=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stock_movements",
    )
    actor_api_key = models.ForeignKey(
        "apikeys.ApiKey",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stock_movements",
    )
    actor_name = models.CharField(max_length=150, db_index=True)
    # The approval request this row belongs to: its hold, the hold's release, the applied change.
    approval_request = models.ForeignKey(
        "ApprovalRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="movements",
    )
    # Indexed with the id in the default order (Meta.indexes): the export and the change list
    # read the ledger newest first, which the index serves without sorting every row.
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the database on insert (never by the app): the change feed's order.
    xact = models.BigIntegerField(db_default=WritingTransaction(), editable=False)
    # The record's version this row brought it to (StockRecord.version). Null on rows written
    # before versions existed: the ledger is never rewritten.
    version = models.BigIntegerField(null=True, blank=True, editable=False)

    objects = StockMovementQuerySet.as_manager()

    class Meta:
        verbose_name = "stock movement"
        verbose_name_plural = "stock history"
        ordering = ["-created_at", "-id"]
        permissions = [("export_movements", "Can export the stock history as CSV")]
        indexes = [
            models.Index(fields=["product", "-created_at"]),
            models.Index(fields=["-created_at", "-id"], name="movement_newest_first"),
            models.Index(fields=["xact", "id"], name="movement_feed_position"),
        ]
        constraints = [
            # One row per version of a record (a partial unique index: older rows have none);
            # it also serves reconcile_stock's density check.
            models.UniqueConstraint(
                fields=["product", "version"],
                condition=Q(version__isnull=False),
                name="movement_product_version",
            ),
            models.CheckConstraint(
                condition=Q(reserved_after__lte=F("on_hand_after")),
                name="movement_reserved_after_lte_on_hand_after",
            ),
            models.CheckConstraint(
                condition=~Q(on_hand_delta=0, reserved_delta=0),
                name="movement_changes_something",
            ),
            models.CheckConstraint(
                condition=Q(on_hand_after__lte=MAX_ON_HAND),
                name="movement_on_hand_after_lte_max",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.product_id} on_hand{self.on_hand_delta:+d}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableLedgerError("Stock ledger rows cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableLedgerError("Stock ledger rows cannot be deleted.")

    @property
    def available_after(self) -> int:
        return is_available(self.on_hand_after, self.reserved_after)


class ApprovalPolicy(models.Model):
    """When a stock correction needs a second person's approval (one row, edited in the admin).

    A correction needs approval when it crosses any threshold that is set: its absolute change
    is at least `min_units`, its value (units × the product's unit cost) at least `min_value`,
    or it is at least `min_percent` of the on-hand count before it. Each left empty is off.
    Read through `inventory.approvals.approval_policy()`, which creates the row on first read.
    """

    min_units = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name="minimum units",
        help_text="A correction of at least this many units (up or down) needs approval. "
        "Empty: no unit limit.",
    )
    min_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        verbose_name="minimum value",
        help_text="A correction worth at least this much (units × unit cost) needs approval. "
        "Products without a unit cost never reach it. Empty: no value limit.",
    )
    min_percent = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        verbose_name="minimum percent of on hand",
        help_text="A correction of at least this percentage of the on-hand count before it "
        "needs approval (from 0 on hand, any change counts as 100%). Empty: no percentage limit.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = "approval policy"
        verbose_name_plural = "approval policy"
        constraints = [
            # One row: the policy is a setting, not a list.
            models.CheckConstraint(condition=Q(id=1), name="approval_policy_singleton"),
        ]

    def __str__(self) -> str:
        return "Approval policy"


# The ledger kinds that keep a waiting decrease's units out of available stock, and give them back.
HOLD_KINDS = ("hold", "unhold")


class ApprovalRequest(models.Model):
    """A stock correction waiting for a second person's decision (inventory.approvals).

    It records the signed change computed when it was made, which approval applies to the
    stock as it then is. While a decrease waits, its units are held (ledger kind `hold`, in
    `reserved`) so they cannot be sold; a rejection releases them (`unhold`), an approval in
    the row of the applied change itself. Every ledger row of the request (hold, release,
    applied change) points at it (StockMovement's `approval_request`), so the ledger alone
    tells the story.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="approval_requests")
    on_hand_delta = models.IntegerField(help_text="The signed change of on-hand to apply.")
    on_hand_at_request = models.PositiveIntegerField(
        help_text="On-hand when the correction was made."
    )
    kind = models.CharField(max_length=16, choices=StockMovement.Kind.choices)
    reason_code = models.CharField(
        max_length=reasons.MAX_LENGTH, choices=reasons.reason_code_choices()
    )
    reason = models.CharField(max_length=500, blank=True)
    reference = models.CharField(max_length=500, blank=True)
    threshold = models.CharField(
        max_length=500, help_text="The approval thresholds the change crossed, in words."
    )
    # Who asked: a staff user, or an API key and its owner (actor_name, as when it was made).
    source = models.CharField(max_length=8, choices=StockMovement.Source.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_requests",
    )
    requested_by_api_key = models.ForeignKey(
        "apikeys.ApiKey",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_requests",
    )
    actor_name = models.CharField(max_length=150, db_index=True, verbose_name="requester")
    held = models.PositiveIntegerField(
        default=0, help_text="Units held out of available stock while the request waits."
    )
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_decisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "approval request"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("approve_correction", "Can approve or reject other people's stock corrections")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(on_hand_delta=0), name="approval_request_changes_something"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True, decided_by__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="approval_request_decided_when_not_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def applied_movement(self) -> StockMovement | None:
        """The ledger row of the approved change (its hold and the release point here too)."""
        if self.status != self.Status.APPROVED:
            return None
        return self.movements.exclude(kind__in=HOLD_KINDS).first()


class StockImport(models.Model):
    """A corrections file (CSV) uploaded in the admin, kept between its review and its apply.

    The apply runs exactly this content, once (`applied_at`), for its uploader only; rows older
    than `inventory.imports.IMPORT_TTL` are deleted at the next upload. The ledger rows an apply
    writes carry `adjustment_group`, and the outcomes it showed are kept in `outcomes`.
    """

    id = models.UUIDField(primary_key=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content = models.TextField(help_text="The file as uploaded, decoded from UTF-8.")
    created_at = models.DateTimeField(db_index=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    error_policy = models.CharField(max_length=32, blank=True)
    adjustment_group = models.UUIDField(null=True, blank=True)
    outcomes = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "stock corrections file"

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"


class StockOverview(StockMovement):
    """The admin's stock overview page (inventory.admin_overview): no rows of its own.

    A proxy of the ledger so that the page has its own place in the admin index and its own
    permission, `inventory.view_stockoverview` (Inventory managers).
    """

    class Meta:
        proxy = True
        verbose_name = "stock overview"
        verbose_name_plural = "stock overview"
        default_permissions = ("view",)


# The most products one cycle count session holds: one count screen, one posting (one bulk call).
MAX_COUNT_LINES = 500


class CountSession(models.Model):
    """A cycle count: the products to count, the clerks who count them blind, and its state.

    open (clerks count) -> in_review (managers review and post) -> posted; open or in review
    -> cancelled. Changed only by `inventory.counts`; each step records who and when.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open (counting)"
        IN_REVIEW = "in_review", "In review"
        POSTED = "posted", "Posted"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=200)
    selection = models.CharField(max_length=500, help_text="How the products were picked.")
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.OPEN, db_index=True
    )
    assignees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="count_sessions", verbose_name="counted by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The ledger rows the posting wrote (empty when every counted line matched).
    adjustment_group = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name = "cycle count"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("manage_counts", "Can create, review, post and cancel cycle counts"),
            ("count_stock", "Can enter the counts of cycle counts assigned to them"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name}"

    @property
    def reference(self) -> str:
        """The ledger reference of the posting: names the session."""
        return f"Cycle count #{self.pk}: {self.name}"


class CountLine(models.Model):
    """One product of a count session and, once counted, what was counted against what.

    `on_hand_at_count` is the stock record's on-hand read in the transaction that recorded the
    count; the variance (counted - on hand at count time) is what posting applies, so stock
    that moved after the count keeps its movements. A recount replaces all four count fields.
    """

    session = models.ForeignKey(CountSession, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="count_lines")
    counted_quantity = models.PositiveIntegerField(null=True, blank=True)
    on_hand_at_count = models.PositiveIntegerField(null=True, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    counted_at = models.DateTimeField(null=True, blank=True)
    # A second person's approval of a variance over the approval policy's thresholds.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "cycle count line"
        constraints = [
            models.UniqueConstraint(fields=["session", "product"], name="count_line_unique"),
            models.CheckConstraint(
                condition=Q(
                    counted_quantity__isnull=True,
                    on_hand_at_count__isnull=True,
                    counted_by__isnull=True,
                    counted_at__isnull=True,
                )
                | Q(
                    counted_quantity__isnull=False,
                    on_hand_at_count__isnull=False,
                    counted_by__isnull=False,
                    counted_at__isnull=False,
                ),
                name="count_line_counted_completely",
            ),
            models.CheckConstraint(
                condition=Q(counted_quantity__lte=MAX_ON_HAND),
                name="count_line_counted_lte_max",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} in count #{self.session_id}"

    @property
    def is_counted(self) -> bool:
        return self.counted_quantity is not None

    @property
    def variance(self) -> int | None:
        """Counted minus on hand at count time; None while not counted."""
        if self.counted_quantity is None:
            return None
        return self.counted_quantity - self.on_hand_at_count
