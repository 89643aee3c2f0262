#!/usr/bin/env python3
"""A support bot for evalgate's `exec` provider, in the shape of an in-house bot.

evalgate starts this program once per concurrency lane and keeps it running. For every
customer turn it writes one JSON line to stdin; this program answers with one JSON line on
stdout. Logs go to stderr (evalgate appends them to <run>/exec-stderr.log): stdout carries
answers only.

Each turn is answered by forwarding the conversation to an OpenAI-compatible chat
completions endpoint (by default the demo bot: `evalgate demo-bot --port 8787`), the way a
bot that wraps an LLM would. Standard library only; Python 3.9+.
"""

import json
import os
import sys
import urllib.error
import urllib.request

BASE_URL = os.environ.get("DEMO_BOT_URL", "http://127.0.0.1:8787/v1").rstrip("/")
MODEL = os.environ.get("DEMO_BOT_MODEL", "evalgate-demo")
HANDOFF_TOOL = "escalate_to_human"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": HANDOFF_TOOL,
            "description": "Hand the conversation over to a human support agent.",
            "parameters": {
                "type": "object",
                "properties": {"reason": {"type": "string"}},
                "required": ["reason"],
            },
        },
    }
]


def log(message):
    print(f"exec_bot[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def chat(request):
    """One chat completion for the conversation so far; returns the answer line."""
    messages = []
    if request.get("system_prompt"):
        messages.append({"role": "system", "content": request["system_prompt"]})
    messages.extend(request.get("history", []))
    messages.append({"role": "user", "content": request["message"]})
    body = json.dumps({"model": MODEL, "messages": messages, "tools": TOOLS}).encode()
    http_request = urllib.request.Request(
        BASE_URL + "/chat/completions",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(http_request, timeout=30) as response:
        completion = json.load(response)
    message = completion["choices"][0]["message"]
    actions = [
        {"name": call["function"]["name"], "arguments": call["function"]["arguments"]}
        for call in message.get("tool_calls") or []
    ]
    usage = completion.get("usage") or {}
    return {
        "reply": message.get("content") or "",
        "handoff": any(a["name"] == HANDOFF_TOOL for a in actions),
        "actions": actions,
        "tokens_in": usage.get("prompt_tokens", 0),
        "tokens_out": usage.get("completion_tokens", 0),
    }


def main():
    log(f"started, forwarding to {BASE_URL}")
    for line in sys.stdin:
        request = json.loads(line)
        if "end" in request:
            # The conversation is over: a bot with per-conversation state frees it here.
            continue
        try:
            answer = chat(request)
        except (urllib.error.URLError, OSError, KeyError, ValueError) as e:
            log(f"{request['conversation_id']} turn {request['turn']}: {e}")
            answer = {"error": f"cannot reach {BASE_URL}: {e}"}
        print(json.dumps(answer), flush=True)
    log("stdin closed, exiting")


if __name__ == "__main__":
    main()
