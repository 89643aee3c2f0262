#!/usr/bin/env python3
"""Writes a synthetic production export for `evalgate monitor`: JSONL, one conversation a
line, in the shape of DESIGN.md "Production: from launch to live".

Deterministic (seeded). Five languages over ISO weeks 2026-W40..W47. Polish drifts: week by
week its bot hands off less (containment climbs: the press-release figure looks better),
while more of its "contained" customers come back within days (repeat contacts climb,
durable resolution falls). The other languages hold steady.

    python3 scripts/gen_export.py                              # examples/production/export.jsonl
    python3 scripts/gen_export.py --conversations 1000000 --out /tmp/export-1m.jsonl
"""

import argparse
import json
import random
from datetime import datetime, timedelta, timezone

START = datetime(2026, 9, 28, tzinfo=timezone.utc)  # Monday of 2026-W40
WEEKS = 8
LANGUAGES = ["en", "de", "pl", "sv", "es"]

TEXT = {
    "en": ("Where is my refund for order {n}?", "Your refund for order {n} was issued on 3 November; it reaches your card in 5-10 business days.", "Hi, this is Sam from the support team. Let me check order {n}."),
    "de": ("Wo bleibt meine Erstattung für Bestellung {n}?", "Die Erstattung für Bestellung {n} wurde am 3. November veranlasst; sie erscheint in 5-10 Werktagen.", "Hallo, hier ist Lena vom Support. Ich sehe mir Bestellung {n} an."),
    "pl": ("Gdzie jest zwrot za zamówienie {n}?", "Zwrot za zamówienie {n} zlecono 3 listopada; pojawi się na karcie w ciągu 5-10 dni roboczych.", "Dzień dobry, tu Anna z obsługi klienta. Sprawdzę zamówienie {n}."),
    "sv": ("Var är min återbetalning för order {n}?", "Återbetalningen för order {n} gjordes den 3 november; den syns på kortet inom 5-10 bankdagar.", "Hej, det här är Erik på kundtjänst. Jag tittar på order {n}."),
    "es": ("¿Dónde está mi reembolso del pedido {n}?", "El reembolso del pedido {n} se emitió el 3 de noviembre; llegará a tu tarjeta en 5-10 días hábiles.", "Hola, soy Lucía del equipo de soporte. Reviso el pedido {n}."),
}
# A Polish reply that sounds like help and is not: what drives the repeat contacts.
PL_DEFLECTION = "Dziękujemy, Twoje zgłoszenie zostało zarejestrowane."
FOLLOW_UP = {
    "en": "I asked last week and still nothing arrived.",
    "de": "Ich habe letzte Woche gefragt und es ist immer noch nichts da.",
    "pl": "Pytałem w zeszłym tygodniu i nadal nic nie dotarło.",
    "sv": "Jag frågade förra veckan och fortfarande har inget kommit.",
    "es": "Pregunté la semana pasada y todavía no ha llegado nada.",
}


def rates(language, week):
    """(handoff probability, probability that a contained customer comes back)."""
    if language == "pl":
        return 0.26 - 0.022 * week, 0.06 + 0.07 * week
    return 0.24, 0.07


def conversation(rng, cid, customer, language, started, follow_up, handoff_p, n):
    question, answer, agent = TEXT[language]
    order = f"A-{n:05d}"
    first = FOLLOW_UP[language] if follow_up else question.format(n=order)
    messages = [{"role": "customer", "text": first}]
    escalated = rng.random() < handoff_p
    deflecting = language == "pl" and rng.random() < 0.4
    messages.append({"role": "bot", "text": PL_DEFLECTION if deflecting else answer.format(n=order)})
    record = {
        "id": cid,
        "customer_id": customer,
        "language": language,
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "messages": messages,
    }
    if escalated:
        messages.append({"role": "agent", "text": agent.format(n=order)})
    # Half the conversations carry the handoff flag; the rest are read by their messages.
    if rng.random() < 0.5:
        record["handoff"] = escalated
    if rng.random() < 0.4:
        record["csat"] = rng.choice([1, 2, 3]) if escalated or follow_up else rng.choice([3, 4, 5, 5])
    return record, escalated


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=4000, help="this many conversations (default 4000)")
    parser.add_argument("--seed", type=int, default=45)
    parser.add_argument("--out", default="examples/production/export.jsonl")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    span = WEEKS * 7 * 24 * 3600
    rows = []
    n = 0
    # First contacts spread evenly; each may bring a follow-up from the same customer.
    i = -1
    while len(rows) < args.conversations:
        i += 1
        language = LANGUAGES[i % len(LANGUAGES)]
        started = START + timedelta(seconds=rng.randrange(span))
        week = (started - START).days // 7
        handoff_p, return_p = rates(language, week)
        customer = f"u-{language}-{i:07d}"
        n += 1
        record, escalated = conversation(rng, f"c-{n:07d}", customer, language, started, False, handoff_p, n)
        rows.append(record)
        if not escalated and rng.random() < return_p:
            # Back within the window: 2 hours to 7 days later.
            later = started + timedelta(seconds=rng.randrange(2 * 3600, 7 * 24 * 3600))
            if later < START + timedelta(seconds=span):
                n += 1
                rows.append(conversation(rng, f"c-{n:07d}", customer, language, later, True, 0.5, n)[0])
        elif rng.random() < 0.03:
            # Some customers come back for something else weeks later: not a repeat.
            later = started + timedelta(days=rng.randrange(9, 30))
            if later < START + timedelta(seconds=span):
                n += 1
                rows.append(conversation(rng, f"c-{n:07d}", customer, language, later, False, handoff_p, n)[0])
    del rows[args.conversations:]
    rows.sort(key=lambda r: r["started_at"])
    with open(args.out, "w", encoding="utf-8") as out:
        for r in rows:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} conversations to {args.out}")


if __name__ == "__main__":
    main()
