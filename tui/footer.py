"""The key footer, built once per set of keys and switched, not rebuilt, when the pane changes."""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

#: footers kept for sets of keys not on screen (a pane's table, its note field, a form, ...)
KEPT = 16


def keys_shown(screen: Screen) -> tuple[Hashable, ...]:
    """What a footer draws from: each shown binding, whether it is enabled, its tooltip."""
    palette = screen.app.COMMAND_PALETTE_BINDING
    return tuple(
        (key, binding, enabled, tooltip)
        for key, (_node, binding, enabled, tooltip) in screen.active_bindings.items()
        if binding.show or key == palette
    )


class KeysFooter(Footer):
    """Textual's footer for one set of keys: composed from the bindings active when it is mounted,
    never recomposed (the deck shows another footer when the keys change)."""

    def __init__(self, keys: tuple[Hashable, ...]) -> None:
        super().__init__()
        self.keys = keys
        self.set_reactive(Footer._bindings_ready, True)

    def bindings_changed(self, screen: Screen) -> None:
        pass


class GateFooter(Footer):
    """A deck of footers, one per set of keys shown.

    The stock footer recomposes on every bindings signal, and one switch of pane sends several
    (the tab changes, the focus moves into the pane, the table takes its cursor). Each recompose
    mounts and styles a widget per key, which made switching panes the dearest thing a served
    terminal does. Here the signals of one refresh are looked at once, after it, and a set of keys
    seen before is shown again by switching which footer is displayed.

    It is a Footer itself so that what applies to the footer (its place at the bottom, staying
    visible when a widget is maximized) applies to the deck.
    """

    def __init__(self) -> None:
        super().__init__()
        self._footers: dict[tuple[Hashable, ...], KeysFooter] = {}  # least recently shown first
        self._shown: KeysFooter | None = None
        self._pending = False

    def compose(self) -> ComposeResult:
        yield from ()

    @property
    def current(self) -> KeysFooter | None:
        return self._shown

    def bindings_changed(self, screen: Screen) -> None:
        if not screen.app.app_focus or self._pending:
            return
        if self.is_attached and screen is self.screen:
            self._pending = True
            self.call_after_refresh(self._show_keys)

    async def _show_keys(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        keys = keys_shown(self.screen)
        footer = self._footers.pop(keys, None)
        built = footer is None
        if footer is None:
            footer = KeysFooter(keys)
            footer.display = False  # shown once composed: no frame with an empty footer
        self._footers[keys] = footer
        if built:
            await self.mount(footer)
        if footer is not self._shown:
            if self._shown is not None:
                self._shown.display = False
            footer.display = True
            self._shown = footer
        while len(self._footers) > KEPT:
            oldest = next(iter(self._footers))
            await self._footers.pop(oldest).remove()
