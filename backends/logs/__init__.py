"""Live logs: sources → redaction → a bounded ring + the session's log files → `LogLines` events.

One concept per module:
  record    `LogRecord`, the unit everything else passes around, and the log-file line format
  levels    level detection by cheap heuristics
  source    what a source yields (`Chunk`, `Mark`) and the `LogSource` protocol
  journal   `journalctl -f` of chosen units on a host, resumed from the last cursor after a drop
  pods      pod logs by namespace (or namespace selector) + label selector, following new pods
  files     a local or remote file, followed like `tail -F`, resumed from the last byte offset
  ring      the bounded in-memory ring of the newest lines, ordered by time
  pipeline  redaction, ordering, the ring, the files and batched publishing
  reader    scrolling back beyond the ring: the session's log files read by time
  filter    what a view shows: sources, minimum level, text or regex
  view      a window over ring + files for one screen: follow/pause, scroll, jump, search
  hub       the gate's log service: starts sources, owns pipeline, ring, reader and views
"""
