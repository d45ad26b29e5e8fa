"""The webhook capture answers with the status its ``answer`` hook chooses, and keeps it."""

from __future__ import annotations

import aiohttp

from streams.stack.capture import Delivery, WebhookCapture


async def test_answer_hook_chooses_each_status_and_the_delivery_keeps_it() -> None:
    def answer(delivery: Delivery) -> int:
        return 500 if delivery.body["n"] < 2 else 200

    statuses = []
    async with WebhookCapture(answer=answer) as hook, aiohttp.ClientSession() as http:
        for n in range(3):
            async with http.post(f"{hook.url}/ops", json={"n": n}) as response:
                statuses.append(response.status)
        await hook.wait_for(lambda got: len(got) == 3, timeout=5, what="three posts")
    assert statuses == [500, 500, 200]
    assert [(d.body["n"], d.status) for d in hook.deliveries] == [(0, 500), (1, 500), (2, 200)]


async def test_without_a_hook_every_delivery_is_answered_200() -> None:
    async with (
        WebhookCapture() as hook,
        aiohttp.ClientSession() as http,
        http.post(f"{hook.url}/a", json={}) as response,
    ):
        assert response.status == 200
    assert [d.status for d in hook.deliveries] == [200]
