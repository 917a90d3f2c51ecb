"""The back-office role for webhooks: staff who manage integrators' endpoints.

Installed by the data migration (techparts.roles.install_groups) and by tests
(techparts.roles.ensure_groups). Adding an endpoint shows its secret once; rotating needs
`change_webhookendpoint`; redelivering creates deliveries (`add_delivery`).
"""

INTEGRATION_MANAGERS = "Integration managers"

GROUP_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    INTEGRATION_MANAGERS: [
        ("webhooks", "view_webhookendpoint"),
        ("webhooks", "add_webhookendpoint"),
        ("webhooks", "change_webhookendpoint"),  # edit, enable/disable, rotate the secret
        ("webhooks", "delete_webhookendpoint"),
        ("webhooks", "view_delivery"),  # the delivery log, with its attempts
        ("webhooks", "add_delivery"),  # redeliver events
        ("webhooks", "view_deliveryattempt"),
    ],
}
