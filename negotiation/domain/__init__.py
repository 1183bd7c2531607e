"""The negotiation domain: the machine, the entry types, the fold, the story and the hash chain.

Rooms, each with one job: ``machine`` (the table), ``payloads`` (every entry
type and the one registry of them), ``fields`` (what a payload's fields hold),
``checks`` (input checks), ``sources`` (who reported an entry: a name or an article), ``wording`` (refusals in words), ``entries`` (the
entry records and the one shape read of them), ``times`` (reading and writing
times), ``story``, ``aggregate`` (the fold) and ``chain``.

Nothing here knows about storage, files or the command line; everything else
imports the domain, never the reverse.
"""
