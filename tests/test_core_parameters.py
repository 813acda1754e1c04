"""Company parameters (公司参数, GLOSSARY): the generic audited table (records/core/parameters.py),
the definitions with their defaults and limits (records/policy.py ``COMPANY_PARAMETERS``), and a
change taking effect where the parameter is used (mail attempts, the outbox)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from records import policy
from records.cases.duplicates import possible_duplicates
from records.core import parameters
from records.core.store import Store
from records.notifications import inbox, outbox, smtp_settings
from records.notifications.inbox import Notice
from tests.fixtures.calendar import at
from tests.fixtures.mail import set_email

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ADMIN = {"username": "admin", "roles": ["admin"]}
FINANCE = {"username": "finance", "roles": ["finance", "receiver"]}


def test_get_set_and_history_in_an_audited_table(tmp_path):
    store = Store(tmp_path / "data")
    assert parameters.get(store, "a.key", 7) == 7 and parameters.history(store, "a.key") == []
    parameters.set_value(store, "a.key", 9, "alice", "first")
    parameters.set_value(store, "a.key", 9, "alice", "first")  # no change: nothing written
    parameters.set_value(store, "a.key", 11, "bob", "second")
    assert parameters.get(store, "a.key", 7) == 11 and parameters.all_values(store) == {"a.key": 11}
    assert [(h["by"], h["before"], h["after"], h["note"]) for h in parameters.history(store, "a.key")] == [
        ("alice", None, 9, "first"), ("bob", 9, 11, "second")]
    assert store.verify().ok
    assert len(store.history(parameters.TABLE, parameters.stored(store, "a.key")["id"])) == 2


def test_every_definition_is_company_practice_within_its_limits():
    assert set(policy.COMPANY_PARAMETERS) >= {"mail_max_attempts", "session_hours", "rework_days", "labour_rate",
                                              "claim_reply_days", "notice_ack_days", "duplicate_call_days"}
    for key, p in policy.COMPANY_PARAMETERS.items():
        assert p.key == key and p.minimum <= p.default <= p.maximum and p.setters and p.used_on and p.label
    assert policy.COMPANY_PARAMETERS["mail_max_attempts"].default == policy.MAIL_MAX_ATTEMPTS
    assert policy.COMPANY_PARAMETERS["rework_days"].default == policy.REWORK_DAYS == 90
    assert "finance" in policy.COMPANY_PARAMETERS["labour_rate"].setters  # GLOSSARY: set by 财务部


@pytest.mark.parametrize("key, raw, expected", [
    ("mail_max_attempts", "3", 3),
    ("mail_max_attempts", " 100 ", 100),
    ("mail_max_attempts", "0", "须在 1—100 次之间"),
    ("mail_max_attempts", "101", "须在 1—100 次之间"),
    ("mail_max_attempts", "2.5", "必须是整数"),
    ("mail_max_attempts", "三", "必须是整数"),
    ("rework_days", "", "必须是整数"),
    ("labour_rate", "0", 0),
    ("labour_rate", "-1", "须在 0—100000"),
    ("nonexistent", "1", "没有这个公司参数"),
])
def test_values_are_checked(key, raw, expected):
    if isinstance(expected, int):
        assert policy.check_parameter(key, raw) == expected
    else:
        with pytest.raises(policy.ParameterError) as err:
            policy.check_parameter(key, raw)
        assert expected in str(err.value) and err.value.field == "value"


@pytest.mark.parametrize("user, key, allowed", [
    (ADMIN, "mail_max_attempts", True),
    (ADMIN, "labour_rate", True),
    (FINANCE, "labour_rate", True),
    (FINANCE, "mail_max_attempts", False),
])
def test_who_sets_what(tmp_path, user, key, allowed):
    store = Store(tmp_path / "data")
    if allowed:
        assert policy.set_parameter(store, key, "5", user, "说明") == 5
        assert policy.parameter(store, key) == 5
        assert parameters.history(store, key)[-1]["by"] == user["username"]
    else:
        with pytest.raises(policy.ParameterError, match="无权"):
            policy.set_parameter(store, key, "5", user)
        assert policy.parameter(store, key) == policy.COMPANY_PARAMETERS[key].default


def test_a_lower_mail_limit_takes_effect_at_the_next_run(store, smtp):
    smtp_settings.save_smtp_settings(store, {"host": "127.0.0.1", "port": smtp.port, "starttls": False,
                                             "sender": "aftersales@example.com", "password": ""}, "admin")
    smtp.sink.defer = ("engineer@example.com",)  # 451 every time
    set_email(store, "engineer", "engineer@example.com")
    outbox.notify(store, [Notice("engineer", "test", "总被推迟", "正文", key="held", link="/")], NOW)
    policy.set_parameter(store, "mail_max_attempts", "2", ADMIN, "服务器不稳定，少试几次")
    states = []
    for _ in range(2):
        outbox.deliver(store, NOW)
        states.append(next(d for d in store.scan(inbox.TABLE) if d["key"] == "held")["email"]["state"])
    assert states == ["pending", "failed"]  # the 2nd try was the last, not the 10th


@pytest.mark.parametrize("days, flagged", [(None, True), ("3", True), ("2", False)])
def test_the_duplicate_call_window_follows_the_parameter(db, new_case, days, flagged):
    from_phone = new_case(now="2026-11-27T16:00")  # the same caller's phone, three days before
    if days:
        policy.set_parameter(db, "duplicate_call_days", days, ADMIN)
    found = possible_duplicates(db, "", "0312-5550101", at("2026-11-30T15:00"))
    assert [r["case"]["id"] for r in found] == ([from_phone["id"]] if flagged else [])
