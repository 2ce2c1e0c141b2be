"""Transport-neutral chat-ops command layer (commands, roles, replies, audit)."""
