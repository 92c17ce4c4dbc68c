"""Which VM a Slack thread is about: chosen from the paste or the "Pick the VM" menu, stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select

from actions.resources import ProtectedVm
from store import Store, thread_vms


@dataclass(frozen=True, slots=True)
class ThreadVm:
    """The remembered choice: the vault and VM resource ids, who chose, when."""

    vault_id: str
    vm_id: str
    chosen_by: str

    def is_item(self, item: ProtectedVm) -> bool:
        """True when ``item`` is the remembered VM in the remembered vault (ARM ids ignore case)."""
        return (
            item.vault.id.casefold() == self.vault_id.casefold()
            and item.vm.id.casefold() == self.vm_id.casefold()
        )


def remember(store: Store, channel: str, thread_ts: str, item: ProtectedVm, user: str) -> None:
    """Make ``item`` the thread's VM (a later choice replaces an earlier one)."""
    row = {
        "channel": channel,
        "thread_ts": thread_ts,
        "vault_id": item.vault.id,
        "vm_id": item.vm.id,
        "chosen_by": user,
        "at": datetime.now(UTC),
    }
    key = (thread_vms.c.channel == channel, thread_vms.c.thread_ts == thread_ts)
    with store._write() as conn:  # one transaction: readers never see the thread without a VM
        conn.execute(delete(thread_vms).where(*key))
        conn.execute(thread_vms.insert().values(**row))


def recall(store: Store, channel: str, thread_ts: str) -> ThreadVm | None:
    """The thread's VM, or None when nobody chose one yet."""
    query = select(thread_vms.c.vault_id, thread_vms.c.vm_id, thread_vms.c.chosen_by).where(
        thread_vms.c.channel == channel, thread_vms.c.thread_ts == thread_ts
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return ThreadVm(row[0], row[1], row[2]) if row is not None else None
