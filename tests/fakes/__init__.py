"""Hand-written fakes of exactly the cloud SDK surfaces the adapters use.

They keep the real SDKs' semantics that the stores rely on (etags and preconditions,
transactional batch limits and the single-partition rule, Firestore's read-before-write
rule, 500-write limit, index requirements, query ordering/limits/cursors) and raise the
real SDKs' exception classes, so adapter code cannot tell them apart on the paths tested.
"""
