"""`gateroom publish`: the decided evidence, published in the platform repository's own formats.

A publication is a list of idempotent steps (`steps`), each comparing before it writes, run by
`run` after reading everything it needs (`evidence`: the decided records and their bundle; the
repository's templates and issue map). Documents are rendered from the evidence alone
(`documents`, `templates`, `issue_map`, `messages`), so a second run writes nothing that is already
right, and a run stopped part-way is finished by the next one.
"""
