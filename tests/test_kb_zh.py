"""Every entry speaks Traditional Chinese in Taiwan usage: no mainland terms, no Simplified
characters, and our own translation marked as ours (the seed's entries keep the seed's)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from knowledge.loader import KnowledgeBase, load_kb
from knowledge.model import Entry

# Mainland term -> the Taiwan term our text uses instead.
MAINLAND: dict[str, str] = {
    "保管庫": "保存庫",
    "訂閱": "訂用帳戶",
    "資源組": "資源群組",
    "網絡": "網路",
    "默認": "預設",
    "數據": "資料",
    "信息": "訊息",
    "服務器": "伺服器",
    "軟件": "軟體",
    "硬件": "硬體",
    "內存": "記憶體",
    "磁盤": "磁碟",
    "鏈接": "連結",
    "運行": "執行",
    "創建": "建立",
    "設置": "設定",
    "緩存": "快取",
    "支持": "支援",
    "集群": "叢集",
    "界面": "介面",
    "端口": "連接埠",
    "搜索": "搜尋",
    "兼容": "相容",
    "進程": "處理序",
    "線程": "執行緒",
    "加載": "載入",
    "文件夾": "資料夾",
    "文件系統": "檔案系統",
    "文件名": "檔案名稱",
    "文件共享": "檔案共用",
    "視頻": "影片",
    "激活": "啟用",
    "屏幕": "螢幕",
    "質量": "品質",
    "菜單": "功能表",
    "刷新": "重新整理",
}
# Terms that need a look at their neighbours: 虛擬機 is fine in 虛擬機器, 用戶 in 租用戶, 存儲 in
# 暫存儲存體 (暫存 + 儲存體).
MAINLAND_PATTERNS: dict[str, re.Pattern[str]] = {
    "虛擬機器": re.compile(r"虛擬機(?!器)"),
    "使用者": re.compile(r"(?<!租)用戶"),
    "儲存體": re.compile(r"(?<!暫)存儲"),
}
# Characters that exist only in Simplified Chinese (their Traditional forms differ); characters
# shared by both scripts (域, 缺, 效, 卸, 恢, 后, 里, 准...) are left out on purpose.
SIMPLIFIED = frozenset(
    "这们个为来时会对说发过还进没么种开关从动机车门问间题应该实现业务数库网络设备点击删错误访权"
    "账户储资组订阅虚拟扩证书认号码层级页线导请输执运试启态显录载传报写读续结构将并与无围获辑标"
    "签节类简区频验检测变档缓统计钥锁损坏盘装维护迁团队满总义处径条项详细终离扫虽东见视觉观规则"
    "严专丢两乱亚产亲优伙伤众价体侧债儿兰兴养军农决况冻净减创刚剂剧办励劳势医华协单卖卫厂厅历压"
    "县参双叠叹吗员响唤园图圆圣场块坚扬扰抢担拥择挂挡挤挥换据摄摆摇断旧暂术杀杂极枪柜栈树样桥梦"
    "楼欢残毁气汇汉沟泽洁浅济浏浓涂润涨渐温湾湿滚滞滤灭灯灵灾炉热爱状独献环琐电畅疗盐监盖着矿础"
    "确礼积称稳穷竞笔筑紧纠红约纪纯纲纳纵纷纸练织经绕给绝继绩综编缩罚职联聪脑脱临举荐药营虑补袭"
    "览触讨让训议讯记讲许论评识诉诊词译诚话询语诸课谁调谈谢谨贝负贡财责败货质购贯费赖赛赶趋跃践"
    "踪轮软转轻较辅辆边达远违连迟选递逻邮释铁链销键长闭闲闻阶际陆险随隐难韩顺须顾预领颜风飞饭馆"
    "驱骤鸟齐龙云于复广"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")

# The seed article's entries: their zh-TW text comes from the seed's zh-TW edition.
SEED = {
    "UserErrorGuestAgentStatusUnavailable",
    "GuestAgentSnapshotTaskStatusError",
    "UserErrorVmProvisioningStateFailed",
    "UserErrorRpCollectionLimitReached",
    "UserErrorKeyvaultPermissionsNotConfigured",
    "ExtensionSnapshotFailedNoNetwork",
    "ExtensionOperationFailedForManagedDisks",
    "BackUpOperationFailed",
    "UserErrorUnsupportedDiskSize",
    "UserErrorBackupOperationInProgress",
    "UserErrorCrpReportedUserError",
    "UserErrorBcmDatasourceNotPresent",
}

KB = load_kb()


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KB


def zh_texts(entry: Entry) -> Iterator[tuple[str, str]]:
    """Every zh-TW text of an entry, with its field."""
    yield "title.zh-TW", entry.title.zh_TW
    yield "summary.zh-TW", entry.summary.zh_TW
    for i, cause in enumerate(entry.causes):
        if cause.text is not None:
            yield f"causes.{i}.text.zh-TW", cause.text.zh_TW
    for i, step in enumerate(entry.steps):
        yield f"steps.{i}.text.zh-TW", step.text.zh_TW
    for i, note in enumerate(entry.notes):
        yield f"notes.{i}.zh-TW", note.zh_TW
    for i, msg in enumerate(entry.messages):
        if msg.lang == "zh-TW":
            yield f"messages.{i}.text", msg.text
    for i, sym in enumerate(entry.symptoms):
        if sym.lang == "zh-TW":
            yield f"symptoms.{i}.text", sym.text


def defects(text: str) -> list[str]:
    """What in ``text`` is not Taiwan usage: mainland terms and Simplified characters."""
    found = [f"{term} (use {tw})" for term, tw in MAINLAND.items() if term in text]
    found += [
        f"{m.group()} (use {tw})" for tw, p in MAINLAND_PATTERNS.items() for m in p.finditer(text)
    ]
    found += [f"Simplified {ch}" for ch in dict.fromkeys(text) if ch in SIMPLIFIED]
    return found


@pytest.mark.parametrize(
    "text",
    ["备份保管库", "在虛擬機上", "訂閱", "默認網絡", "存储帐户", "数据", "文件夾", "用戶名稱"],
)
def test_the_scan_finds_mainland_usage(text: str) -> None:
    assert defects(text)


@pytest.mark.parametrize(
    "text",
    ["備份保存庫", "虛擬機器", "訂用帳戶", "預設網路", "暫存儲存體帳戶", "資料", "租用戶", "卸載"],
)
def test_the_scan_accepts_taiwan_usage(text: str) -> None:
    assert not defects(text)


@pytest.mark.parametrize("entry", KB.entries, ids=lambda e: e.code)
def test_zh_tw_text_is_taiwan_usage(entry: Entry) -> None:
    found = {field: defects(text) for field, text in zh_texts(entry)}
    assert not {f: d for f, d in found.items() if d}


@pytest.mark.parametrize("entry", KB.entries, ids=lambda e: e.code)
def test_title_summary_causes_and_steps_are_in_chinese(entry: Entry) -> None:
    texts = [(f, t) for f, t in zh_texts(entry) if not f.startswith(("messages", "symptoms"))]
    assert texts
    assert [f for f, t in texts if not _CJK.search(t)] == []


def test_zh_source_is_ours_except_for_the_seed(kb: KnowledgeBase) -> None:
    wrong = [e.code for e in kb.entries if (e.source.zh == "seed") != (e.code in SEED)]
    assert wrong == []
    assert {e.source.zh for e in kb.entries if e.code not in SEED} == {"ours"}
