"""CSV files shared with the bot: download, batch-score through the Answerer, upload the results.

Downloads send the bot token, so they go only to Slack's file host (or the
configured SLACK_API_URL's host, for a local fake), and stop at the core's
size limit instead of reading a file the core would refuse anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot import reply
from bot.answering import Answerer
from bot.core import MAX_FILE_BYTES, file_too_big
from bot.render.slack import render
from bot.slack.deliver import Conversation
from bot.slack.progress import Progress
from bot.slack.settings import Settings

SlackFile = Mapping[str, Any]


class DownloadError(Exception):
    """A shared file could not be fetched; the message says why, for people."""


async def score_shared_files(answerer: Answerer, settings: Settings, where: Conversation, sender: reply.Sender,
                             text: str, files: Sequence[SlackFile]) -> None:
    """Show progress in one message, then edit it into the summary and upload the result CSVs."""
    progress = Progress(where, [filename(f) for f in files], settings.progress_interval)
    await progress.start()
    attachments, problems = await download_all(settings, where.client, files)
    if attachments:
        answer = await answerer.answer(text, sender, attachments, progress.report)
    else:
        answer = reply.Reply(reply.Status.NOT_PREDICTED, reply.Batch(()))
    answer = with_problems(answer, problems)
    await progress.finish(render(answer))
    await where.upload(answer.files)


async def download_all(settings: Settings, client: AsyncWebClient, files: Sequence[SlackFile],
                       ) -> tuple[list[reply.Attachment], list[reply.ScoredFile]]:
    attachments, problems = [], []
    async with aiohttp.ClientSession() as session:
        for file in files:
            try:
                attachments.append(await download(session, settings, client, file))
            except DownloadError as error:
                problems.append(reply.ScoredFile(filename(file), error=str(error)))
    return attachments, problems


async def download(session: aiohttp.ClientSession, settings: Settings, client: AsyncWebClient,
                   file: SlackFile) -> reply.Attachment:
    if int(file.get("size") or 0) > MAX_FILE_BYTES:
        raise DownloadError(file_too_big(int(file["size"])))
    if not file.get("url_private_download"):        # e.g. file_access "check_file_info"
        file = (await client.files_info(file=file["id"]))["file"]
    url = file.get("url_private_download") or file.get("url_private") or ""
    if urlsplit(url).netloc not in settings.file_hosts:
        raise DownloadError("Slack did not give a download link for it; share it again as a file.")
    try:
        async with session.get(url, headers={"Authorization": f"Bearer {settings.bot_token}"}) as response:
            if response.status != 200:
                raise DownloadError(f"Slack answered {response.status} when I tried to download it.")
            if response.content_type == "text/html":      # Slack's sign-in page: no files:read scope
                raise DownloadError("I may not read files here; the Slack app needs the files:read scope.")
            content = bytearray()
            async for chunk in response.content.iter_chunked(1 << 16):
                content += chunk
                if len(content) > MAX_FILE_BYTES:
                    raise DownloadError(file_too_big(None))
    except aiohttp.ClientError as error:
        raise DownloadError(f"The download failed ({type(error).__name__}); try sharing it again.") from error
    return reply.Attachment(filename(file), bytes(content), file.get("mimetype") or "text/csv")


def with_problems(answer: reply.Reply, problems: list[reply.ScoredFile]) -> reply.Reply:
    """Files that never reached the core are listed beside the ones it scored."""
    if not problems or not isinstance(answer.body, reply.Batch):
        return answer
    return replace(answer, body=reply.Batch(answer.body.files + tuple(problems)))


def filename(file: SlackFile) -> str:
    return str(file.get("name") or file.get("title") or file.get("id") or "file")
