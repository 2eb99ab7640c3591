"""The platform's signals as the gate reads them: the run-status comment's hidden JSON marker, the
"run not created" and trigger-conflict warnings, and the `kodex.works/*` keys of run namespaces.

Pure parsing, no I/O: the scenarios, the checks and the sandbox's own tests share these readers, so
there is one definition of what the platform says. `sources` names the platform file behind each.
"""
