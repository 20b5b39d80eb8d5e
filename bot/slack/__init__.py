"""The Slack channel: /predict, mentions, DMs and CSV shares, in Socket Mode or HTTP mode.

service   start/stop for `predbot serve`; picks the mode from the environment
settings  SLACK_* and PREDBOT_SLACK_* variables
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
