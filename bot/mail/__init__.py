"""The email channel.

    SMTP in (server) -> durable spool -> workers: parse, claim, guard, Bot.handle, compose
    -> outgoing queue in the spool -> outbound: relay or outbox, retries, dead letters

Every stage hands over through files in the spool, so `kill -9` at any moment
loses no accepted mail and a restart sends no second reply. The spool is this
host's; what several hosts decide together (which of them answers a mail, how
often a sender is answered) is claimed in the store (bot.store.shared).
"""
