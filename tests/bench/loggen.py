# ruff: noqa: E501 - realistic log lines are long
"""Realistic codex-k8s log lines with a realistic mix of secrets, for the logs benchmarks.

About 1 line in 100 carries a secret (the shapes the redactor knows, plus known env-file values), 1 in
50 carries a harmless look-alike (the words token, secret, password, bearer …), and 1 in 2,000 starts
a 6-line PEM private key. The rest is what a k3s host and the kodex services print: klog, logrus,
JSON and an agent's plain output. Deterministic (seeded), so runs compare.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

KNOWN_SECRETS = {
    "KODEX_GITHUB_PAT": "github_pat_11AAAAAAA0gateroomBenchValue0000000000000000000000000000000000000000000",
    "KODEX_GITHUB_OAUTH_CLIENT_SECRET": "b1e2c3d4e5f60718293a4b5c6d7e8f9012345678",
    "KODEX_GIT_BOT_TOKEN": "ghp_benchBotToken0000000000000000000000000",
    "KODEX_OPENAI_API_KEY": "sk-proj-benchOpenAIKey0000000000000000000000000000",
    "KODEX_GITHUB_WEBHOOK_SECRET": "whsec-bench-7c1f9e2a4b6d8f0e",
}

_JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJlbmNoIn0."
    "eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmtvZGV4In0."
    "c2lnbmF0dXJlLWJlbmNoLW9ubHktbm90LWEtcmVhbC1zaWduYXR1cmU"
)

_SECRET_LINES = [
    'time="{ts}" level=debug msg="calling GitHub" header="Authorization: Bearer {gh}"',
    '{{"ts":"{ts}","level":"info","logger":"worker","msg":"cloning","url":"https://x-access-token:{gh}@github.com/codex-k8s/project-example.git"}}',
    "I{k} 2211 token_manager.go:88] using service account token {jwt}",
    "codex> export OPENAI_API_KEY=sk-proj-{r40}",
    "KODEX_GITHUB_PAT={pat}",
    '{{"ts":"{ts}","level":"error","msg":"db connect failed","dsn":"postgres://kodex:{pw}@postgres.kodex-prod:5432/kodex"}}',
    "Authorization: Basic {b64}",
    "codex> curl -H 'Authorization: token ghp_{r36}' https://api.github.com/user",
    'time="{ts}" level=info msg="webhook secret loaded" KODEX_GITHUB_WEBHOOK_SECRET="{whsec}"',
    '{{"ts":"{ts}","level":"warn","msg":"retrying OpenAI call","api_key":"{openai}"}}',
]
_LOOKALIKES = [
    'time="{ts}" level=info msg="token refresh scheduled in 55m"',
    '{{"ts":"{ts}","level":"info","msg":"secret.sync.k8s requested","approval":"pending","run_id":"r-{h}"}}',
    'I{k} 2211 secrets.go:41] "Skipping secret without data" secret="kodex-prod/kodex-tls"',
    "codex> reading docs/security/password-policy.md",
    'time="{ts}" level=info msg="bearer auth enabled for /api/v1/runs"',
]
_PLAIN = [
    'I{k}    2211 controller.go:132] "Successfully synced" key="kodex-prod/kodex-worker" duration="{ms}ms"',
    'I{k}    2211 kubelet.go:2476] "SyncLoop UPDATE" source="api" pods=["codex-issue-{n}/agent-run-{h}"]',
    'W{k}    2211 reflector.go:561] watch of *v1.PartialObjectMetadata ended with: an error on the server ("unable to decode an event from the watch stream: context canceled")',
    'time="{ts}" level=info msg="StartContainer for \\"{h}{h}\\" returns successfully"',
    'time="{ts}" level=info msg="run namespace lease extended" namespace=codex-issue-{n} expires_at="{ts}"',
    '{{"ts":"{ts}","level":"info","logger":"control-plane","msg":"label transition","issue":{n},"from":"run:intake","to":"state:in-review"}}',
    '{{"ts":"{ts}","level":"info","logger":"worker","msg":"agent run started","run_id":"r-{h}","namespace":"codex-issue-{n}","model":"gpt-5.3-codex"}}',
    '{{"ts":"{ts}","level":"debug","logger":"mcp","msg":"tool call","tool":"github.labels.add","duration_ms":{ms}}}',
    "codex> applying patch to docs/delivery/issue_map.md (+{ms} -3 lines)",
    "codex> run_status_report: phase=implementation progress={ms}% next=open pull request",
    'E{k}    2211 pod_workers.go:1301] "Error syncing pod, skipping" err="back-off 10s restarting failed container=agent" pod="codex-issue-{n}/agent-run-{h}"',
]
_PEM = [
    "-----BEGIN RSA PRIVATE KEY-----",
    "MIIEowIBAAKCAQEAvbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbench",
    "u3b8ZbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchQ",
    "x9Y2abenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbenchA",
    "-----END RSA PRIVATE KEY-----",
]


def lines(count: int, *, seed: int = 7, start: float = 1_795_500_000.0) -> Iterator[str]:
    rnd = random.Random(seed)
    hexchars = "0123456789abcdef"
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    made = 0
    while made < count:
        ts_f = start + made / 10_000
        tm = time.gmtime(int(ts_f))
        values = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", tm),
            "k": time.strftime("%m%d %H:%M:%S", tm) + f".{int((ts_f % 1) * 1e6):06d}",
            "n": 100 + made % 57,
            "h": "".join(rnd.choice(hexchars) for _ in range(6)),
            "ms": made % 97 + 1,
        }
        roll = rnd.random()
        if roll < 0.0005 and made + len(_PEM) <= count:
            yield from _PEM
            made += len(_PEM)
            continue
        if roll < 0.01:
            template = rnd.choice(_SECRET_LINES)
            values.update(
                gh=rnd.choice(["ghp_", "gho_", "ghs_"]) + "".join(rnd.choice(alnum) for _ in range(36)),
                jwt=_JWT,
                r40="".join(rnd.choice(alnum) for _ in range(40)),
                r36="".join(rnd.choice(alnum) for _ in range(36)),
                pat=KNOWN_SECRETS["KODEX_GITHUB_PAT"],
                pw="".join(rnd.choice(alnum) for _ in range(16)),
                b64="Y29kZXg6" + "".join(rnd.choice(alnum) for _ in range(16)),
                whsec=KNOWN_SECRETS["KODEX_GITHUB_WEBHOOK_SECRET"],
                openai=KNOWN_SECRETS["KODEX_OPENAI_API_KEY"],
            )
        elif roll < 0.03:
            template = rnd.choice(_LOOKALIKES)
        else:
            template = rnd.choice(_PLAIN)
        yield template.format(**values)
        made += 1
