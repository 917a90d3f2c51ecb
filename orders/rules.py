"""The limits of one order, shared by its serializer, its service and its model."""

MAX_QUANTITY = 999  # units on one order line
MAX_LINES = 50  # lines on one order
