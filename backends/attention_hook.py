"""The operator's attention hook: the configured command, run with the event as JSON on stdin.

Never in the gate's way. `submit` only queues, into a bounded queue: when it is full the event is
dropped and counted, and the count is recorded. One worker runs one hook at a time, each within
`timeout_s`; a hook that runs over is stopped with its whole process group (a shell script's
children too). What went wrong (a non-zero exit, a timeout, a missing program, dropped events) is
published as `HookFailed` with a one-line reason, so it is recorded in the evidence and shown.

The hook gets no secret: the document holds redacted texts only, and the gate's own token variables
are taken out of the hook's environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from backends.events import AttentionNeeded, EventBus, HookFailed, HookRan

#: events waiting while a hook runs; more are dropped and counted (a stuck hook never piles up)
QUEUE_SIZE = 16
#: how much of the hook's stderr is kept for the reason line
STDERR_KEEP = 4096
#: once the hook has exited, how long its stderr may take to close: a child it left running in
#: the background may hold it open, and is not waited for
STDERR_GRACE_S = 1.0
#: on top of one hook's timeout when the gate closes: time to stop a hook that ran over and record it
CLOSE_GRACE_S = 2.0


def hook_document(event: AttentionNeeded, session_id: str, target: str) -> dict[str, Any]:
    """What the hook reads on stdin (one JSON object and a newline)."""
    return {
        "kind": event.need,
        "scenario": event.scenario_id or None,
        "check": event.check_key or None,
        "title": event.title,
        "status": event.status,
        "session": session_id,
        "target": target,
        "ts": event.ts,
        "message": event.message,
    }


def hook_environment(hidden: Iterable[str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the variables that hold the gate's own tokens."""
    drop = set(hidden)
    return {k: v for k, v in (os.environ if base is None else base).items() if k not in drop}


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


async def _tail(stream: asyncio.StreamReader | None) -> bytes:
    kept = b""
    if stream is None:
        return kept
    while chunk := await stream.read(65536):
        kept = (kept + chunk)[-STDERR_KEEP:]
    return kept


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    # the hook runs in its own session (start_new_session), so its pid is its process group
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


class AttentionHook:
    def __init__(
        self,
        command: list[str],
        timeout_s: float,
        bus: EventBus,
        redact: Callable[[str], str],
        *,
        target: str = "",
        env: Mapping[str, str] | None = None,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self.command = list(command)
        self.timeout_s = timeout_s
        self.bus = bus
        self.redact = redact
        self.target = target
        self._env = dict(env) if env is not None else None
        self._queue: asyncio.Queue[tuple[AttentionNeeded, bytes]] = asyncio.Queue(maxsize=queue_size)
        self._worker: asyncio.Task[None] | None = None
        self._closed = False
        #: events not handed to the hook since the last report of it
        self.dropped = 0
        #: the event the hook is being run for now, if any
        self.running: AttentionNeeded | None = None

    # -- taking events ---------------------------------------------------------------------------
    def submit(self, event: AttentionNeeded, session_id: str) -> None:
        """Queue the event for the hook; returns at once (called from a bus subscriber)."""
        # each text redacted once more: the redactor may know more secrets than when it was made
        document = {
            key: self.redact(value) if isinstance(value, str) else value
            for key, value in hook_document(event, session_id, self.target).items()
        }
        data = json.dumps(document, ensure_ascii=False).encode() + b"\n"
        if self._closed or not self._start():
            self.dropped += 1
            return
        try:
            self._queue.put_nowait((event, data))
        except asyncio.QueueFull:
            self.dropped += 1

    def _start(self) -> bool:
        if self._worker is None:
            try:
                self._worker = asyncio.get_running_loop().create_task(self._work())
            except RuntimeError:  # no event loop in this thread: nothing can run the hook
                return False
        return True

    async def _work(self) -> None:
        while True:
            event, data = await self._queue.get()
            self.running = event
            try:
                await self._run(event, data)
            except Exception as exc:  # a fault here must not stop every later call from being made
                self.bus.publish(HookFailed(event.need, "", f"hook runner: {type(exc).__name__}: {exc}"))
            finally:
                self.running = None
                self._queue.task_done()
            self._report_dropped("the hook was still busy with earlier ones")

    def _report_dropped(self, why: str) -> None:
        if self.dropped:
            count, self.dropped = self.dropped, 0
            self.bus.publish(HookFailed("", "", f"{count} attention event(s) not sent: {why}"))

    # -- running one ---------------------------------------------------------------------------------
    async def _run(self, event: AttentionNeeded, data: bytes) -> None:
        # named as log excerpts name what they attach to
        if event.scenario_id:
            item = f"scenario:{event.scenario_id}"
        else:
            item = f"check:{event.check_key}" if event.check_key else "gate"
        started = time.monotonic()

        def failed(reason: str) -> None:
            took = round(time.monotonic() - started, 3)
            self.bus.publish(HookFailed(event.need, item, self.redact(reason), took))

        program = self.command[0]
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=self._env,
                start_new_session=True,
            )
        except FileNotFoundError:
            failed(f"{program}: no such program")
            return
        except PermissionError:
            failed(f"{program}: not allowed to run it")
            return
        except OSError as exc:
            failed(f"{program}: {exc.strerror or exc}")
            return
        stderr = asyncio.ensure_future(_tail(proc.stderr))
        try:
            async with asyncio.timeout(self.timeout_s):
                await self._feed(proc, data)
                code = await proc.wait()
        except TimeoutError:
            await self._stop(proc, stderr)
            failed(f"no exit within {self.timeout_s:g}s: stopped")
            return
        except asyncio.CancelledError:
            await asyncio.shield(self._stop(proc, stderr))
            failed("stopped: the gate closed before the hook finished")
            raise
        try:
            said = _last_line(await asyncio.wait_for(stderr, STDERR_GRACE_S))
        except TimeoutError:
            said = ""
        if code != 0:
            why = f"exit {code}" if code > 0 else f"killed by signal {-code}"
            failed(f"{program}: {why}" + (f": {said}" if said else ""))
            return
        self.bus.publish(HookRan(event.need, item, round(time.monotonic() - started, 3)))

    @staticmethod
    async def _feed(proc: asyncio.subprocess.Process, data: bytes) -> None:
        if proc.stdin is None:
            return
        # a hook that does not read its input and exits is not a failure of the feed
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(data)
            await proc.stdin.drain()
        proc.stdin.close()

    @staticmethod
    async def _stop(proc: asyncio.subprocess.Process, stderr: asyncio.Future[bytes]) -> None:
        _kill_group(proc)
        await proc.wait()
        stderr.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await stderr

    # -- closing -------------------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Let the queued events reach the hook (the end of the gate is usually the last), within
        one hook's timeout in all; what is still running then is stopped, what waits is counted."""
        self._closed = True
        if self._worker is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timeout_s + CLOSE_GRACE_S):
                    await self._queue.join()
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        while not self._queue.empty():
            self._queue.get_nowait()
            self._queue.task_done()
            self.dropped += 1
        self._report_dropped("the gate closed first")
