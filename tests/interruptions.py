"""Ctrl-C at a chosen moment of a checkpoint write, for the checkpoint tests.

``save_checkpoint`` writes with ``torch.save`` into a temporary file, renames
it with ``os.replace`` and syncs the folder (``_fsync_directory``); a
KeyboardInterrupt can arrive inside any of them.
"""

#: where a write is interrupted: which function, and what it did before
MOMENTS = ("inside torch.save", "before the rename", "after the rename")


def interrupting(moment, original, now):
    """``original`` (the function of ``moment``), raising KeyboardInterrupt
    at the call for which ``now()`` is true: inside ``torch.save`` after some
    bytes, before the rename, or after the rename has happened."""
    def patched(*args):
        if now():
            if moment == "inside torch.save":
                args[1].write(b"partial")
            elif moment == "after the rename":
                original(*args)
            raise KeyboardInterrupt
        return original(*args)
    return patched


def patch_targets(checkpoint_module):
    """``(object, attribute name, moment)`` of each function to patch."""
    return [(checkpoint_module.torch, "save", MOMENTS[0]),
            (checkpoint_module.os, "replace", MOMENTS[1]),
            (checkpoint_module, "_fsync_directory", MOMENTS[2])]
