"""The email channel.

    SMTP in (server) -> durable spool -> worker: parse, guard, Bot.handle, compose
    -> outgoing queue in the spool -> outbound: relay or outbox, retries, dead letters

Every stage hands over through files in the spool, so `kill -9` at any moment
loses no accepted mail and a restart sends no second reply.
"""
