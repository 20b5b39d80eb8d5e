"""The Slack channel: /predict, mentions, DMs and CSV shares, in Socket Mode or HTTP mode.

service   start/stop for `predbot serve`: Socket Mode with an app token, else HTTP mode
settings  the channel's section of bot.config's Config (tokens, allow-lists, where to listen)
app       the Bolt app and its listeners (payload -> Answerer -> destination)
http      /slack/events and /healthz on aiohttp; nothing unverified passes
verify    is a request Slack's, and readable? (signature over raw bytes, then the body)
socket    Socket Mode over Bolt's aiohttp handler
deliver   where an answer goes: response_url, or a thread / DM
incoming  Slack markup back to plain text
files     CSV downloads, batch scoring, result uploads
progress  one progress message, edited in place
dedupe    answer each message once (retries, duplicate events, replays)
access    allow-lists
"""
