"""The object rewriter: runs scheduled object tasks (remove or mask fields of an uploaded object,
replacing it atomically in S3)."""
