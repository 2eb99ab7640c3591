"""The gate's timeline: where the wall-clock time went, built from the evidence records alone.

`model` the items (scenario attempts, check groups), their step segments and run phases; `build`
folds records into it; `critical` finds the chain of items that decided when the gate ended; `scale`
maps time onto a row of character cells for the screen and the report; `read` takes a session's
records off the disk (blocking: call it in a thread).
"""
