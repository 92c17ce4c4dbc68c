"""Every sentence and label of the diagnostics and approval flow exists in zh-TW and English;
the builders use the reader's language and leave Azure's values and the plan alone."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from actions.approvals import Refusal, Status, new_request
from actions.base import Finding, Report
from actions.errors import AzureForbidden, AzureTimeout, NotAllowed
from actions.guardrails import Guardrails
from actions.names import LABELS as ACTION_LABELS
from actions.resources import Outcome, VaultRef
from bot.blocks.actions import (
    STATES,
    audit_reply,
    card_blocks,
    card_text,
    outcome_reply,
    pick_vm_reply,
    report_reply,
)
from bot.blocks.labels import FINDINGS, LABELS
from bot.sentences import AZURE, CHECKS, REFUSALS, SENTENCES, error_sentence, not_allowed
from knowledge.model import LANGS
from tests.fakes.backup_api import VAULT, protected_vm

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def every_text_table() -> list[tuple[str, dict[Any, str]]]:
    tables: list[tuple[str, dict[Any, str]]] = []
    tables += [(f"sentence {k}", v) for k, v in SENTENCES.items()]
    tables += [(f"refusal {k}", v) for k, v in REFUSALS.items()]
    tables += [(f"check {k}", v) for k, v in CHECKS.items()]
    tables += [(f"azure {kind.__name__}", v) for kind, v in AZURE]
    tables += [(f"label {k}", v) for k, v in LABELS.items()]
    tables += [(f"action {k}", v) for k, v in ACTION_LABELS.items()]
    return tables


@pytest.mark.parametrize(("where", "by_lang"), every_text_table(), ids=lambda x: str(x)[:40])
def test_every_english_text_has_a_zh_tw_counterpart(where: str, by_lang: dict[str, str]) -> None:
    assert set(by_lang) == set(LANGS), where
    assert all(t.strip() for t in by_lang.values()), where
    assert CJK.search(by_lang["zh-TW"]), f"{where}: the zh-TW text is not Chinese"
    assert set(PLACEHOLDER.findall(by_lang["en"])) == set(PLACEHOLDER.findall(by_lang["zh-TW"]))


def test_every_refusal_and_card_state_has_a_text() -> None:
    assert set(REFUSALS) == set(Refusal)
    assert set(STATES) == set(Status)
    assert all(STATES[s] in LABELS for s in Status)
    assert all(CJK.search(zh) for zh in FINDINGS.values())


def test_refusals_of_the_guardrails_come_out_in_zh_tw_and_unknown_ones_in_english() -> None:
    rails = Guardrails([VAULT], frozenset())
    messages = []
    checks: list[Callable[[], None]] = [
        partial(rails.check_enabled, "cancel_job"),
        partial(rails.check_enabled, "nope"),
        partial(rails.check_item, protected_vm(vault=VaultRef("s", "rg", "other"))),
    ]
    for check in checks:
        with pytest.raises(NotAllowed) as caught:
            check()
        messages.append(str(caught.value))
    for message in messages:
        zh = not_allowed(message, "zh-TW")
        assert CJK.search(zh), message
        assert not_allowed(message, "en") == message
    assert "cancel_job" in not_allowed(messages[0], "zh-TW")
    assert not_allowed("Something new.", "zh-TW") == "Something new."


def test_azure_failures_keep_their_code_in_both_languages() -> None:
    exc = AzureForbidden("inner", status=403, code="AuthorizationFailed")
    assert (
        error_sentence(exc)
        == "Azure refused: my identity lacks a role for this (AuthorizationFailed)."
    )
    zh = error_sentence(exc, "zh-TW")
    assert zh.endswith("(AuthorizationFailed)。")
    assert "inner" not in zh
    assert error_sentence(AzureTimeout("x"), "zh-TW") == "Azure 未及時回應。"
    assert error_sentence(ValueError("secret"), "zh-TW") == "抱歉，我這邊發生錯誤。"


def request() -> Any:
    return new_request(
        action="remove_rg_lock",
        params={"vm": "x"},
        plan="remove_rg_lock on web-01\n- DELETE /locks/l1",
        requester="UREQ",
        channel="C1",
        thread_ts="1.0",
        now=NOW,
        key=b"k" * 32,
    )


def test_a_zh_tw_card_keeps_the_plan_and_hash_and_its_buttons_ids() -> None:
    req = request()
    zh = card_blocks(req, now=NOW, lang="zh-TW")
    en = card_blocks(req, now=NOW)
    text = json.dumps(zh, ensure_ascii=False)
    assert "需要核准：移除還原點資源群組鎖定" in text
    assert "⏳ 等待核准" in text
    assert "到期 2025-03-01 12:30 UTC" in text
    assert zh[1] == en[1]  # the plan block is the same text in every language
    assert [b["value"] for b in zh[-1]["elements"]] == [b["value"] for b in en[-1]["elements"]]
    assert card_text(req, lang="zh-TW") == f"需要核准：移除還原點資源群組鎖定 (要求 {req.id})"
    assert card_text(req) == f"Approval needed: Remove restore-point RG lock (request {req.id})"
    expired = json.dumps(
        card_blocks(req, now=NOW + timedelta(hours=1), lang="zh-TW"), ensure_ascii=False
    )
    assert "⌛ 已到期：沒有人及時核准" in expired


def test_zh_tw_outcome_report_menu_and_audit_frames() -> None:
    outcome = Outcome(
        True, "Lock l1 removed.", job_id="j1", correlation_id="c1", portal_url="https://p/x"
    )
    text = json.dumps(outcome_reply(request(), outcome, lang="zh-TW").blocks, ensure_ascii=False)
    assert "Azure 作業：`j1`" in text
    assert "<https://p/x|在 Azure 入口網站中開啟>" in text
    assert "相互關聯識別碼 `c1`" in text
    assert "Lock l1 removed." in text  # Azure's own summary is not translated
    report = Report(
        "locks", "web-01", (Finding("Locks", "none", True), Finding("rg / l1", "<x>")), "", ()
    )
    shown = report_reply(report, None, [], lang="zh-TW")
    assert shown.blocks[0]["text"]["text"] == "檢查鎖定: web-01"
    assert "*鎖定*: none" in json.dumps(shown.blocks, ensure_ascii=False)
    assert "*rg / l1*: &lt;x&gt;" in json.dumps(shown.blocks, ensure_ascii=False)
    empty = Report("locks", "web-01", (), "No lock blocks Azure Backup.", ())
    assert "沒有鎖定阻擋 Azure 備份。" in report_reply(empty, None, [], lang="zh-TW").text
    assert pick_vm_reply([], None, lang="zh-TW").text.startswith("設定的復原服務保存庫都沒有")
    assert audit_reply([], lang="zh-TW").text == "稽核記錄是空的。"
