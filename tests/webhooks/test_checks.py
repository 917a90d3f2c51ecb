"""`manage.py check --deploy` refuses WEBHOOKS_ALLOW_LOOPBACK (webhooks.E001)."""

from django.core import checks


def deploy_check_ids() -> set[str]:
    return {message.id for message in checks.run_checks(include_deployment_checks=True)}


def test_the_deploy_check_refuses_loopback_webhooks(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True

    assert "webhooks.E001" in deploy_check_ids()


def test_the_deploy_check_passes_with_loopback_off(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False

    assert "webhooks.E001" not in deploy_check_ids()


def test_the_ordinary_check_leaves_loopback_alone_for_development(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True

    assert "webhooks.E001" not in {message.id for message in checks.run_checks()}
