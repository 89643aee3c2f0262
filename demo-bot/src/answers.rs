//! The bot's replies in five languages: routine answers filled from the account context
//! and a small help centre, hand-over messages, refusals and the deflection.
//!
//! Every table is `[en, sv, de, pl, es]`. Replies are whole sentences of 15–80 words so
//! that a language detector recognises them and a word limit can drop trailing sentences.

use super::intent::{Attack, Escalation, Refusal, Topic};
use super::lang::Lang;
use super::prompt::Prompt;

type Texts = [&'static str; 5];

fn pick(lang: Lang, texts: &Texts) -> &'static str {
    texts[lang.index()]
}

/// Context keys the bot reads, with the synonyms an eval-set author might use. Keys not
/// listed here (internal notes, risk flags, phone numbers) are never shown to anyone.
pub(crate) mod keys {
    pub const ORDER_ID: &[&str] = &["order_id", "order_number", "order"];
    pub const CARRIER: &[&str] = &["carrier", "shipping_carrier"];
    pub const TRACKING: &[&str] = &["tracking_number", "tracking", "tracking_id"];
    pub const DELIVERY_DATE: &[&str] = &["expected_delivery", "delivery_date", "delivery_eta"];
    pub const ORDER_TOTAL: &[&str] = &["order_total", "order_amount", "total"];
    pub const REFUND_AMOUNT: &[&str] = &["refund_amount"];
    pub const REFUND_DATE: &[&str] = &["refund_eta", "refund_date", "refund_expected"];
    pub const REFUND_SENT: &[&str] = &["refund_sent", "refund_sent_on", "refund_issued_on"];
    pub const CARD_LAST4: &[&str] = &["card_last4", "card_last_four", "card_ending"];
    pub const LEFT: &[&str] = &[
        "instalments_left",
        "installments_left",
        "instalments_remaining",
    ];
    pub const INSTALMENT: &[&str] = &["instalment_amount", "installment_amount"];
    pub const DUE_DATE: &[&str] = &["next_due_date", "due_date", "next_payment_date"];
    pub const DUE_AMOUNT: &[&str] = &[
        "next_due_amount",
        "next_payment_amount",
        "amount_due",
        "instalment_amount",
        "installment_amount",
    ];
    pub const INVOICE: &[&str] = &["invoice_number", "invoice_id", "invoice"];
    pub const EMAIL: &[&str] = &["account_email", "email"];
}

/// A context value as the reply shows it: dates in the reply's language, and bounded so
/// an oversized value cannot blow up the reply.
fn value(prompt: &Prompt, lang: Lang, names: &[&str]) -> Option<String> {
    let raw = prompt.get(names)?.trim();
    if raw.is_empty() {
        return None;
    }
    Some(local_date(lang, raw).unwrap_or_else(|| raw.chars().take(120).collect()))
}

const MONTHS: [[&str; 12]; 5] = [
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ],
    [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    [
        "stycznia",
        "lutego",
        "marca",
        "kwietnia",
        "maja",
        "czerwca",
        "lipca",
        "sierpnia",
        "września",
        "października",
        "listopada",
        "grudnia",
    ],
    [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
];

/// `2026-11-28` as a person writes it in the reply's language; `None` if not an ISO date.
pub fn local_date(lang: Lang, iso: &str) -> Option<String> {
    let mut parts = iso.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let year: u32 = y.parse().ok()?;
    let month: usize = m.parse().ok()?;
    let day: u32 = d.parse().ok()?;
    if !(1..=31).contains(&day) {
        return None;
    }
    let name = MONTHS[lang.index()].get(month.checked_sub(1)?)?;
    Some(match lang {
        Lang::En | Lang::Sv | Lang::Pl => format!("{day} {name} {year}"),
        Lang::De => format!("{day}. {name} {year}"),
        Lang::Es => format!("{day} de {name} de {year}"),
    })
}

/// Substitutes `{name}` placeholders in one pass, so a context value that itself
/// contains braces is shown as written and never expanded.
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match vars.iter().find(|(n, _)| *n == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Tidies what an empty optional value leaves behind ("order  has", "money () will").
fn tidy(text: &str) -> String {
    let mut out = text.replace("()", "");
    for (from, to) in [(" ,", ","), (" .", "."), (" ;", ";"), (" :", ":")] {
        out = out.replace(from, to);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------- routine answers

const CARRIER_DEFAULT: Texts = [
    "our carrier",
    "vårt fraktbolag",
    "unserem Versandpartner",
    "naszego przewoźnika",
    "nuestra empresa de transporte",
];

const ORDER_SHIPPED: Texts = [
    "Your order {order_id} has been shipped with {carrier}, and the tracking number is {tracking}.",
    "Din beställning {order_id} har skickats med {carrier}, och spårningsnumret är {tracking}.",
    "Ihre Bestellung {order_id} wurde mit {carrier} verschickt, die Sendungsnummer lautet {tracking}.",
    "Twoje zamówienie {order_id} zostało wysłane przez {carrier}, a numer przesyłki to {tracking}.",
    "Tu pedido {order_id} ya se ha enviado con {carrier} y el número de seguimiento es {tracking}.",
];

const ORDER_ETA: Texts = [
    "It should arrive by {delivery_date}, and you can follow the parcel in the app under Purchases.",
    "Paketet beräknas vara framme senast den {delivery_date}, och du kan följa det i appen under Köp.",
    "Das Paket sollte bis zum {delivery_date} bei Ihnen ankommen; Sie können es in der App unter Einkäufe verfolgen.",
    "Paczka powinna dotrzeć do {delivery_date}, a jej status sprawdzisz w aplikacji w zakładce Zakupy.",
    "Debería llegar antes del {delivery_date} y puedes seguir el paquete en la app, en el apartado Compras.",
];

const ORDER_FOLLOW: Texts = [
    "You can follow the parcel step by step in the app under Purchases or on the carrier's website.",
    "Du kan följa paketet steg för steg i appen under Köp eller på fraktbolagets webbplats.",
    "Sie können die Sendung Schritt für Schritt in der App unter Einkäufe oder auf der Website des Versanddienstleisters verfolgen.",
    "Przesyłkę możesz śledzić krok po kroku w aplikacji w zakładce Zakupy albo na stronie przewoźnika.",
    "Puedes seguir el paquete paso a paso en la app, en Compras, o en la web de la empresa de transporte.",
];

const ORDER_PROCESSING: Texts = [
    "Your order {order_id} hasn't shipped yet because the merchant is still preparing it. As soon as it leaves the warehouse, you'll get the tracking number by email and in the app.",
    "Din beställning {order_id} har inte skickats än, eftersom butiken fortfarande förbereder den. Så fort den lämnar lagret får du spårningsnumret via mejl och i appen.",
    "Ihre Bestellung {order_id} wurde noch nicht verschickt, weil der Händler sie noch vorbereitet. Sobald sie das Lager verlässt, erhalten Sie die Sendungsnummer per E-Mail und in der App.",
    "Twoje zamówienie {order_id} nie zostało jeszcze wysłane, bo sklep wciąż je przygotowuje. Gdy tylko opuści magazyn, dostaniesz numer przesyłki mailem i w aplikacji.",
    "Tu pedido {order_id} todavía no se ha enviado porque la tienda aún lo está preparando. En cuanto salga del almacén, recibirás el número de seguimiento por correo y en la app.",
];

const ORDER_UNKNOWN: Texts = [
    "I can't see an order on your account right now. Could you send me the order number from your confirmation email, so that I can check it for you?",
    "Jag hittar ingen beställning på ditt konto just nu. Kan du skicka ordernumret från din orderbekräftelse, så kollar jag det åt dig?",
    "Ich kann gerade keine Bestellung in Ihrem Konto finden. Könnten Sie mir die Bestellnummer aus Ihrer Bestätigungs-E-Mail schicken, damit ich das für Sie prüfen kann?",
    "Nie widzę teraz żadnego zamówienia na Twoim koncie. Czy możesz przesłać numer zamówienia z maila z potwierdzeniem, żebym mogła to sprawdzić?",
    "Ahora mismo no veo ningún pedido en tu cuenta. ¿Puedes enviarme el número de pedido del correo de confirmación para que lo revise?",
];

const ORDER_NUMBER_ASK: Texts = [
    "I'd be glad to check that for you, but I need to know which order it is. Could you send me the order number from your confirmation email?",
    "Jag kollar gärna det åt dig, men jag behöver veta vilken beställning det gäller. Kan du skicka mig ditt ordernummer från orderbekräftelsen?",
    "Das prüfe ich gern für Sie, aber ich muss wissen, um welche Bestellung es geht. Könnten Sie mir Ihre Bestellnummer aus der Bestätigungs-E-Mail schicken?",
    "Chętnie to sprawdzę, ale muszę wiedzieć, o które zamówienie chodzi. Czy możesz podać numer zamówienia z maila z potwierdzeniem?",
    "Con gusto lo reviso, pero necesito saber de qué pedido se trata. ¿Me puedes enviar el número de pedido del correo de confirmación?",
];

/// Asks for the order an order question is about, when neither the account nor the
/// conversation names one.
pub fn order_number_ask(lang: Lang) -> String {
    pick(lang, &ORDER_NUMBER_ASK).to_string()
}

const DELIVERY_ETA: Texts = [
    "Your order {order_id} should arrive by {delivery_date}.",
    "Din beställning {order_id} beräknas vara framme senast den {delivery_date}.",
    "Ihre Bestellung {order_id} sollte bis zum {delivery_date} bei Ihnen ankommen.",
    "Twoje zamówienie {order_id} powinno dotrzeć do {delivery_date}.",
    "Tu pedido {order_id} debería llegar antes del {delivery_date}.",
];

const DELIVERY_TRACKING: Texts = [
    "You can follow it with {carrier} using the tracking number {tracking}.",
    "Du kan följa den hos {carrier} med spårningsnumret {tracking}.",
    "Sie können die Sendung bei {carrier} mit der Sendungsnummer {tracking} verfolgen.",
    "Numer przesyłki {carrier} to {tracking}, więc możesz ją śledzić na bieżąco.",
    "Puedes seguirlo con {carrier} usando el número de seguimiento {tracking}.",
];

const REFUND_DEFAULT_AMOUNT: Texts = [
    "the full amount",
    "hela beloppet",
    "den vollen Betrag",
    "pełna kwota",
    "el importe total",
];

const REFUND_ETA: Texts = [
    "Your refund of {amount} has been approved and should reach your account by {date}. You don't need to do anything else; we'll email you as soon as the money is on its way.",
    "Din återbetalning på {amount} är godkänd och bör finnas på ditt konto senast den {date}. Du behöver inte göra något mer, vi mejlar dig så fort pengarna är på väg.",
    "Ihre Erstattung über {amount} wurde genehmigt und sollte bis zum {date} auf Ihrem Konto sein. Sie müssen nichts weiter tun; wir schicken Ihnen eine E-Mail, sobald das Geld unterwegs ist.",
    "Twój zwrot ({amount}) został zatwierdzony i powinien trafić na Twoje konto do {date}. Nie musisz nic więcej robić, wyślemy Ci maila, gdy tylko pieniądze będą w drodze.",
    "Tu reembolso por {amount} está aprobado y debería llegar a tu cuenta antes del {date}. No tienes que hacer nada más; te enviaremos un correo en cuanto el dinero esté en camino.",
];

const REFUND_SENT: Texts = [
    "We sent your refund of {amount} on {date}.",
    "Vi skickade din återbetalning på {amount} den {date}.",
    "Wir haben Ihre Erstattung über {amount} am {date} veranlasst.",
    "Twój zwrot ({amount}) wysłaliśmy {date}.",
    "Enviamos tu reembolso por {amount} el {date}.",
];

const REFUND_BANK: Texts = [
    "Banks usually need 5 to 10 business days to show a refund, so please keep an eye on your statement. If it still hasn't arrived after that, write to us again and we will trace it.",
    "Bankerna behöver oftast 5 till 10 bankdagar för att visa en återbetalning, så håll koll på ditt kontoutdrag. Om pengarna inte har kommit efter det, skriv till oss igen så spårar vi dem.",
    "Banken brauchen meist 5 bis 10 Werktage, bis eine Erstattung auf dem Konto erscheint. Falls das Geld danach noch nicht da ist, schreiben Sie uns bitte erneut, dann verfolgen wir die Zahlung nach.",
    "Banki zwykle potrzebują od 5 do 10 dni roboczych, żeby zaksięgować zwrot, więc zerkaj na historię konta. Jeśli po tym czasie pieniędzy nadal nie będzie, napisz do nas ponownie, a sprawdzimy przelew.",
    "Los bancos suelen tardar entre 5 y 10 días hábiles en mostrar un reembolso, así que revisa tus movimientos. Si después de ese plazo todavía no ha llegado, escríbenos de nuevo y lo rastrearemos.",
];

const REFUND_NONE: Texts = [
    "I can't see a refund on your account yet. A refund starts once the merchant has confirmed your return, and it then usually takes 5 to 10 business days to reach you.",
    "Jag ser ingen återbetalning på ditt konto ännu. En återbetalning startar när butiken har bekräftat din retur, och sedan tar det oftast 5 till 10 bankdagar innan pengarna når dig.",
    "Ich sehe in Ihrem Konto noch keine Erstattung. Eine Erstattung startet, sobald der Händler Ihre Rücksendung bestätigt hat, und dauert dann meist 5 bis 10 Werktage.",
    "Nie widzę jeszcze zwrotu na Twoim koncie. Zwrot rusza, gdy sklep potwierdzi przyjęcie Twojej przesyłki zwrotnej, a potem trwa zwykle od 5 do 10 dni roboczych.",
    "Todavía no veo ningún reembolso en tu cuenta. El reembolso empieza cuando la tienda confirma tu devolución y después suele tardar entre 5 y 10 días hábiles.",
];

const CARD_CHANGE: Texts = [
    "To change your card, open the Northwind Pay app, go to Wallet > Payment methods, add the new card and set it as your default.",
    "Så byter du kort: öppna Northwind Pay-appen, gå till Plånbok > Betalningsmetoder, lägg till det nya kortet och välj det som standard.",
    "So ändern Sie Ihre Karte: Öffnen Sie die Northwind Pay App, gehen Sie zu Wallet > Zahlungsmethoden, fügen Sie die neue Karte hinzu und legen Sie sie als Standard fest.",
    "Aby zmienić kartę, otwórz aplikację Northwind Pay, przejdź do Portfel > Metody płatności, dodaj nową kartę i ustaw ją jako domyślną.",
    "Para cambiar la tarjeta, abre la app de Northwind Pay, ve a Cartera > Métodos de pago, añade la tarjeta nueva y márcala como predeterminada.",
];

const CARD_CURRENT: Texts = [
    "Your upcoming payments will then move from the card ending in {last4} to the new one.",
    "Dina kommande betalningar flyttas då från kortet som slutar på {last4} till det nya kortet.",
    "Ihre nächsten Zahlungen werden dann von der Karte mit der Endung {last4} auf die neue Karte umgestellt.",
    "Kolejne płatności zostaną wtedy przeniesione z karty kończącej się na {last4} na nową kartę.",
    "Tus próximos pagos pasarán entonces de la tarjeta terminada en {last4} a la nueva.",
];

const CARD_NEXT: Texts = [
    "Your upcoming payments will then be taken from the new card automatically.",
    "Dina kommande betalningar dras då automatiskt från det nya kortet.",
    "Ihre nächsten Zahlungen werden dann automatisch von der neuen Karte abgebucht.",
    "Kolejne płatności będą wtedy automatycznie pobierane z nowej karty.",
    "A partir de entonces, tus próximos pagos se cobrarán automáticamente de la tarjeta nueva.",
];

const PLAN_LEFT_ONE: Texts = [
    "You have one instalment of {amount} left on your payment plan.",
    "Du har en delbetalning på {amount} kvar på din betalplan.",
    "Auf Ihrem Ratenplan ist noch eine Rate über {amount} offen.",
    "W Twoim planie spłaty została jeszcze jedna rata w kwocie {amount}.",
    "Te queda una cuota de {amount} en tu plan de pago.",
];

const PLAN_LEFT_MANY: Texts = [
    "You have {left} instalments of {amount} left on your payment plan.",
    "Du har {left} delbetalningar på {amount} kvar på din betalplan.",
    "Auf Ihrem Ratenplan sind noch {left} Raten zu je {amount} offen.",
    "Liczba rat pozostałych w Twoim planie spłaty: {left}, każda w kwocie {amount}.",
    "Te quedan {left} cuotas de {amount} en tu plan de pago.",
];

const PLAN_AMOUNT: Texts = [
    "Each instalment on your payment plan is {amount}.",
    "Varje delbetalning på din betalplan är på {amount}.",
    "Jede Rate Ihres Ratenplans beträgt {amount}.",
    "Każda rata w Twoim planie spłaty wynosi {amount}.",
    "Cada cuota de tu plan de pago es de {amount}.",
];

const PLAN_NEXT: Texts = [
    "The next one is due on {date}.",
    "Nästa förfaller den {date}.",
    "Die nächste ist am {date} fällig.",
    "Najbliższa rata przypada na {date}.",
    "La próxima vence el {date}.",
];

const PLAN_EARLY: Texts = [
    "You can also pay early in the app at any time, without any extra fees.",
    "Du kan också betala i förtid i appen när du vill, utan extra avgifter.",
    "Sie können jederzeit in der App vorzeitig zahlen, ohne zusätzliche Gebühren.",
    "W każdej chwili możesz też spłacić ratę wcześniej w aplikacji, bez dodatkowych opłat.",
    "También puedes pagar por adelantado en la app cuando quieras, sin comisiones adicionales.",
];

const PLAN_NONE: Texts = [
    "I can't see an active payment plan on your account. If you chose to pay in instalments at checkout, the plan appears in the app under Payments as soon as the merchant confirms the order.",
    "Jag ser ingen aktiv betalplan på ditt konto. Om du valde delbetalning i kassan visas planen i appen under Betalningar så snart butiken har bekräftat beställningen.",
    "Ich sehe in Ihrem Konto keinen aktiven Ratenplan. Wenn Sie an der Kasse Ratenzahlung gewählt haben, erscheint der Plan in der App unter Zahlungen, sobald der Händler die Bestellung bestätigt.",
    "Nie widzę aktywnego planu spłaty na Twoim koncie. Jeśli przy zakupie wybrano płatność w ratach, plan pojawi się w aplikacji w zakładce Płatności, gdy sklep potwierdzi zamówienie.",
    "No veo ningún plan de pago activo en tu cuenta. Si elegiste pagar a plazos al comprar, el plan aparecerá en la app, en Pagos, en cuanto la tienda confirme el pedido.",
];

const DUE_WITH_AMOUNT: Texts = [
    "Your next payment of {amount} is due on {date}.",
    "Din nästa betalning på {amount} förfaller den {date}.",
    "Ihre nächste Zahlung über {amount} ist am {date} fällig.",
    "Twoja następna płatność w kwocie {amount} przypada na {date}.",
    "Tu próximo pago de {amount} vence el {date}.",
];

const DUE_DATE_ONLY: Texts = [
    "Your next payment is due on {date}.",
    "Din nästa betalning förfaller den {date}.",
    "Ihre nächste Zahlung ist am {date} fällig.",
    "Twoja następna płatność przypada na {date}.",
    "Tu próximo pago vence el {date}.",
];

const DUE_AUTO: Texts = [
    "It is collected automatically from your saved card, so you don't need to do anything as long as there is enough money on it.",
    "Den dras automatiskt från ditt sparade kort, så du behöver inte göra något så länge det finns täckning.",
    "Der Betrag wird automatisch von Ihrer hinterlegten Karte abgebucht, Sie müssen also nichts weiter tun, solange sie gedeckt ist.",
    "Kwota zostanie pobrana automatycznie z zapisanej karty, więc nie musisz nic robić, o ile na koncie są środki.",
    "Se cobra automáticamente de tu tarjeta guardada, así que no tienes que hacer nada mientras tenga saldo suficiente.",
];

const DUE_NONE: Texts = [
    "I can't see any upcoming payment on your account, so there is nothing you need to pay right now. New payments always appear in the app under Payments.",
    "Jag ser ingen kommande betalning på ditt konto, så du behöver inte betala något just nu. Nya betalningar visas alltid i appen under Betalningar.",
    "Ich sehe in Ihrem Konto keine anstehende Zahlung, Sie müssen also gerade nichts bezahlen. Neue Zahlungen erscheinen immer in der App unter Zahlungen.",
    "Nie widzę na Twoim koncie żadnej nadchodzącej płatności, więc na razie nie musisz nic płacić. Nowe płatności zawsze pojawiają się w aplikacji w zakładce Płatności.",
    "No veo ningún pago pendiente en tu cuenta, así que ahora mismo no tienes que pagar nada. Los pagos nuevos siempre aparecen en la app, en Pagos.",
];

const INVOICE: Texts = [
    "You can download the invoice {invoice} for order {order_id} in the app: go to Purchases, open the order and tap Download invoice. A copy was also attached to the confirmation email we sent you when you paid.",
    "Du kan ladda ner fakturan {invoice} för beställning {order_id} i appen: gå till Köp, öppna beställningen och tryck på Ladda ner faktura. En kopia bifogades också i bekräftelsemejlet vi skickade när du betalade.",
    "Sie können die Rechnung {invoice} zur Bestellung {order_id} in der App herunterladen: Gehen Sie zu Einkäufe, öffnen Sie die Bestellung und tippen Sie auf Rechnung herunterladen. Eine Kopie war außerdem der Bestätigungs-E-Mail nach Ihrer Zahlung beigefügt.",
    "Fakturę {invoice} do zamówienia {order_id} pobierzesz w aplikacji: wejdź w Zakupy, otwórz zamówienie i wybierz Pobierz fakturę. Kopię dołączyliśmy też do maila z potwierdzeniem płatności.",
    "Puedes descargar la factura {invoice} del pedido {order_id} en la app: ve a Compras, abre el pedido y pulsa Descargar factura. También te enviamos una copia adjunta en el correo de confirmación del pago.",
];

const ADDRESS_OPEN: Texts = [
    "Your order {order_id} hasn't shipped yet, so you can still change the delivery address: open the order in the app under Purchases and tap Change address.",
    "Din beställning {order_id} har inte skickats än, så du kan fortfarande ändra leveransadressen: öppna beställningen i appen under Köp och tryck på Ändra adress.",
    "Ihre Bestellung {order_id} wurde noch nicht verschickt, daher können Sie die Lieferadresse noch ändern: Öffnen Sie die Bestellung in der App unter Einkäufe und tippen Sie auf Adresse ändern.",
    "Twoje zamówienie {order_id} nie zostało jeszcze wysłane, więc możesz jeszcze zmienić adres dostawy: otwórz zamówienie w aplikacji w zakładce Zakupy i wybierz Zmień adres.",
    "Tu pedido {order_id} todavía no se ha enviado, así que aún puedes cambiar la dirección de entrega: abre el pedido en la app, en Compras, y pulsa Cambiar dirección.",
];

const ADDRESS_SHIPPED: Texts = [
    "Your order {order_id} has already shipped with {carrier}, so the address can now only be changed with the carrier, using the tracking number {tracking}.",
    "Din beställning {order_id} har redan skickats med {carrier}, så adressen kan nu bara ändras hos fraktbolaget med spårningsnumret {tracking}.",
    "Ihre Bestellung {order_id} wurde bereits mit {carrier} verschickt, daher kann die Adresse nur noch beim Versanddienstleister mit der Sendungsnummer {tracking} geändert werden.",
    "Twoje zamówienie {order_id} zostało już wysłane przez {carrier}, więc adres można zmienić tylko u przewoźnika, podając numer przesyłki {tracking}.",
    "Tu pedido {order_id} ya se ha enviado con {carrier}, así que la dirección solo se puede cambiar con la empresa de transporte usando el número de seguimiento {tracking}.",
];

const ADDRESS_FUTURE: Texts = [
    "For future orders, you can update your default address in the app under Profile > Addresses.",
    "För framtida beställningar kan du uppdatera din standardadress i appen under Profil > Adresser.",
    "Für künftige Bestellungen können Sie Ihre Standardadresse in der App unter Profil > Adressen ändern.",
    "Przy kolejnych zamówieniach domyślny adres zmienisz w aplikacji w zakładce Profil > Adresy.",
    "Para próximos pedidos, puedes cambiar tu dirección predeterminada en la app, en Perfil > Direcciones.",
];

const CANCEL_OPEN: Texts = [
    "Your order {order_id} hasn't shipped yet, so you can still cancel it in the app under Purchases > Cancel order. The money ({total}) will go back to your original payment method within 5 to 10 business days.",
    "Din beställning {order_id} har inte skickats än, så du kan fortfarande avbryta den i appen under Köp > Avbryt beställning. Pengarna ({total}) betalas tillbaka till ditt ursprungliga betalsätt inom 5 till 10 bankdagar.",
    "Ihre Bestellung {order_id} wurde noch nicht verschickt, daher können Sie sie in der App noch stornieren: Einkäufe > Bestellung stornieren. Der Betrag ({total}) geht innerhalb von 5 bis 10 Werktagen auf Ihre ursprüngliche Zahlungsmethode zurück.",
    "Twoje zamówienie {order_id} nie zostało jeszcze wysłane, więc możesz je anulować w aplikacji: Zakupy > Anuluj zamówienie. Pieniądze ({total}) wrócą na pierwotną metodę płatności w ciągu 5–10 dni roboczych.",
    "Tu pedido {order_id} todavía no se ha enviado, así que aún puedes cancelarlo en la app, en Compras > Cancelar pedido. El dinero ({total}) volverá a tu método de pago original en un plazo de 5 a 10 días hábiles.",
];

const CANCEL_SHIPPED: Texts = [
    "Your order {order_id} has already shipped, so it can no longer be cancelled. Once it arrives, you can return it within 30 days, and we will refund you as soon as the merchant confirms the return.",
    "Din beställning {order_id} har redan skickats och kan därför inte avbrytas längre. När den har kommit kan du returnera den inom 30 dagar, och vi återbetalar dig så snart butiken har bekräftat returen.",
    "Ihre Bestellung {order_id} wurde bereits verschickt und kann daher nicht mehr storniert werden. Sobald sie angekommen ist, können Sie sie innerhalb von 30 Tagen zurücksenden; wir erstatten den Betrag, sobald der Händler die Rücksendung bestätigt.",
    "Twoje zamówienie {order_id} zostało już wysłane, więc nie da się go anulować. Po odebraniu możesz je zwrócić w ciągu 30 dni, a pieniądze oddamy, gdy sklep potwierdzi zwrot.",
    "Tu pedido {order_id} ya se ha enviado, así que ya no se puede cancelar. Cuando llegue, puedes devolverlo en un plazo de 30 días y te reembolsaremos en cuanto la tienda confirme la devolución.",
];

const EMAIL_KNOWN: Texts = [
    "Your account is registered to the email address {email}.",
    "Ditt konto är registrerat på e-postadressen {email}.",
    "Ihr Konto ist mit der E-Mail-Adresse {email} registriert.",
    "Twoje konto jest zarejestrowane na adres e-mail {email}.",
    "Tu cuenta está registrada con la dirección de correo {email}.",
];

const EMAIL_CHANGE: Texts = [
    "If that address is out of date, you can change it in the app under Profile > Email, and we will send a confirmation link to the new address. It's also worth checking your spam folder for our messages.",
    "Om adressen inte stämmer längre kan du ändra den i appen under Profil > E-post, så skickar vi en bekräftelselänk till den nya adressen. Kolla gärna också skräpposten efter våra mejl.",
    "Falls diese Adresse nicht mehr aktuell ist, können Sie sie in der App unter Profil > E-Mail ändern; wir schicken dann einen Bestätigungslink an die neue Adresse. Schauen Sie bitte auch in Ihrem Spam-Ordner nach unseren Nachrichten.",
    "Jeśli ten adres jest nieaktualny, zmienisz go w aplikacji w zakładce Profil > E-mail, a my wyślemy link potwierdzający na nowy adres. Sprawdź też folder spam, bo nasze wiadomości mogły tam trafić.",
    "Si esa dirección ya no es correcta, puedes cambiarla en la app, en Perfil > Correo, y te enviaremos un enlace de confirmación a la nueva. Revisa también la carpeta de spam por si nuestros mensajes han ido allí.",
];

const LOST_CARD: Texts = [
    "You can freeze {card} straight away in the app under Card > Freeze card, and order a replacement on the same screen. If you notice any payments you don't recognise, tell me and I'll bring in a colleague.",
    "Du kan frysa {card} direkt i appen under Kort > Frys kort och beställa ett nytt kort på samma ställe. Om du ser betalningar som du inte känner igen, säg till så kopplar jag in en kollega.",
    "Sie können {card} in der App unter Karte > Sperren sofort sperren und dort auch gleich eine Ersatzkarte bestellen. Wenn Sie Zahlungen sehen, die Sie nicht kennen, sagen Sie mir Bescheid, dann hole ich einen Kollegen dazu.",
    "Możesz od razu zablokować {card} w aplikacji w zakładce Karta > Zablokuj kartę i tam też zamówić nową. Jeśli zauważysz płatności, których nie rozpoznajesz, daj znać, a przekażę sprawę koledze z zespołu.",
    "Puedes congelar {card} ahora mismo en la app, en Tarjeta > Congelar tarjeta, y pedir una nueva en la misma pantalla. Si ves algún pago que no reconoces, dímelo y te paso con un compañero.",
];

const RETURN: Texts = [
    "You can return an item within 30 days of delivery: open the order in the app under Purchases, tap Return item and use the prepaid label we send you. Once the merchant confirms the return, your refund usually reaches you within 5 to 10 business days.",
    "Du kan returnera en vara inom 30 dagar från leveransen: öppna beställningen i appen under Köp, tryck på Returnera vara och använd den förbetalda etiketten vi skickar. När butiken har bekräftat returen får du oftast pengarna inom 5 till 10 bankdagar.",
    "Sie können einen Artikel innerhalb von 30 Tagen nach der Lieferung zurücksenden: Öffnen Sie die Bestellung in der App unter Einkäufe, tippen Sie auf Artikel zurücksenden und nutzen Sie das vorfrankierte Etikett, das wir Ihnen schicken. Sobald der Händler die Rücksendung bestätigt, erhalten Sie Ihr Geld meist innerhalb von 5 bis 10 Werktagen.",
    "Możesz zwrócić produkt w ciągu 30 dni od dostawy: otwórz zamówienie w aplikacji w zakładce Zakupy, wybierz Zwróć produkt i użyj opłaconej etykiety, którą Ci wyślemy. Gdy sklep potwierdzi zwrot, pieniądze zwykle wracają w ciągu 5–10 dni roboczych.",
    "Puedes devolver un artículo en un plazo de 30 días desde la entrega: abre el pedido en la app, en Compras, pulsa Devolver artículo y usa la etiqueta prepagada que te enviamos. Cuando la tienda confirme la devolución, el reembolso suele llegar en 5 a 10 días hábiles.",
];

const DAMAGED: Texts = [
    "I'm sorry the item didn't arrive as it should.",
    "Jag beklagar att varan inte kom fram som den skulle.",
    "Es tut mir leid, dass der Artikel nicht in Ordnung angekommen ist.",
    "Przykro mi, że produkt nie dotarł w dobrym stanie.",
    "Siento mucho que el artículo no haya llegado en buen estado.",
];

const DECLINED: Texts = [
    "Payments are usually declined when the card has expired, the amount is above the card's limit, or the bank has blocked it for security. Please check that {card} is still valid under Wallet > Payment methods, or add another card; if it keeps failing, your bank can tell you the exact reason.",
    "Betalningar nekas oftast när kortet har gått ut, beloppet är över kortets gräns eller banken har spärrat det av säkerhetsskäl. Kontrollera att {card} fortfarande är giltigt under Plånbok > Betalningsmetoder, eller lägg till ett annat kort; om det fortsätter kan din bank berätta exakt varför.",
    "Zahlungen werden meist abgelehnt, wenn die Karte abgelaufen ist, der Betrag über dem Kartenlimit liegt oder die Bank sie aus Sicherheitsgründen gesperrt hat. Bitte prüfen Sie unter Wallet > Zahlungsmethoden, ob {card} noch gültig ist, oder fügen Sie eine andere Karte hinzu; wenn es weiter fehlschlägt, kann Ihnen Ihre Bank den genauen Grund nennen.",
    "Płatności są zwykle odrzucane, gdy karta straciła ważność, kwota przekracza limit karty albo bank zablokował ją ze względów bezpieczeństwa. Sprawdź w zakładce Portfel > Metody płatności {card} albo dodaj inną kartę; jeśli problem nie zniknie, bank poda Ci dokładny powód.",
    "Los pagos suelen rechazarse cuando la tarjeta ha caducado, el importe supera su límite o el banco la ha bloqueado por seguridad. Comprueba en Cartera > Métodos de pago que {card} sigue siendo válida o añade otra tarjeta; si sigue fallando, tu banco puede decirte el motivo exacto.",
];

const CARD_WITH_DIGITS: Texts = [
    "your card ending in {last4}",
    "ditt kort som slutar på {last4}",
    "Ihre Karte mit der Endung {last4}",
    "swoją kartę kończącą się na {last4}",
    "tu tarjeta terminada en {last4}",
];

const CARD_PLAIN: Texts = [
    "your card",
    "ditt kort",
    "Ihre Karte",
    "swoją kartę",
    "tu tarjeta",
];

/// Whether the order has left the warehouse: a tracking number exists only once it has.
fn shipped(prompt: &Prompt) -> bool {
    prompt.get(keys::TRACKING).is_some()
}

/// The answer to one routine topic, from the account context and the help centre.
pub fn routine(lang: Lang, prompt: &Prompt, topic: Topic) -> String {
    let get = |names: &[&str]| value(prompt, lang, names);
    let order_id = get(keys::ORDER_ID).unwrap_or_default();
    let carrier = get(keys::CARRIER).unwrap_or_else(|| pick(lang, &CARRIER_DEFAULT).to_string());
    let tracking = get(keys::TRACKING).unwrap_or_default();
    let delivery = get(keys::DELIVERY_DATE);
    let order_vars = [
        ("order_id", order_id.as_str()),
        ("carrier", carrier.as_str()),
        ("tracking", tracking.as_str()),
        ("delivery_date", delivery.as_deref().unwrap_or("")),
    ];
    let with_order = |texts: &Texts| fill(pick(lang, texts), &order_vars);
    let mut out: Vec<String> = Vec::new();
    match topic {
        Topic::OrderStatus => {
            if shipped(prompt) {
                out.push(with_order(&ORDER_SHIPPED));
                out.push(with_order(if delivery.is_some() {
                    &ORDER_ETA
                } else {
                    &ORDER_FOLLOW
                }));
            } else if !order_id.is_empty() {
                out.push(with_order(&ORDER_PROCESSING));
                if delivery.is_some() {
                    out.push(with_order(&ORDER_ETA));
                }
            } else {
                out.push(pick(lang, &ORDER_UNKNOWN).to_string());
            }
        }
        Topic::Delivery => match delivery {
            Some(_) => {
                out.push(with_order(&DELIVERY_ETA));
                out.push(with_order(if shipped(prompt) {
                    &DELIVERY_TRACKING
                } else {
                    &ORDER_FOLLOW
                }));
            }
            None => return routine(lang, prompt, Topic::OrderStatus),
        },
        Topic::Refund => {
            let amount = get(keys::REFUND_AMOUNT)
                .unwrap_or_else(|| pick(lang, &REFUND_DEFAULT_AMOUNT).to_string());
            if let Some(date) = get(keys::REFUND_SENT) {
                let vars = [("amount", amount.as_str()), ("date", date.as_str())];
                out.push(fill(pick(lang, &REFUND_SENT), &vars));
                out.push(pick(lang, &REFUND_BANK).to_string());
            } else if let Some(date) = get(keys::REFUND_DATE) {
                let vars = [("amount", amount.as_str()), ("date", date.as_str())];
                out.push(fill(pick(lang, &REFUND_ETA), &vars));
            } else {
                out.push(pick(lang, &REFUND_NONE).to_string());
            }
        }
        Topic::Card => {
            out.push(pick(lang, &CARD_CHANGE).to_string());
            match get(keys::CARD_LAST4) {
                Some(last4) => out.push(fill(pick(lang, &CARD_CURRENT), &[("last4", &last4)])),
                None => out.push(pick(lang, &CARD_NEXT).to_string()),
            }
        }
        Topic::LostCard | Topic::Declined => {
            let card = match get(keys::CARD_LAST4) {
                Some(last4) => fill(pick(lang, &CARD_WITH_DIGITS), &[("last4", &last4)]),
                None => pick(lang, &CARD_PLAIN).to_string(),
            };
            let texts = if topic == Topic::LostCard {
                &LOST_CARD
            } else {
                &DECLINED
            };
            out.push(fill(pick(lang, texts), &[("card", &card)]));
        }
        Topic::Return => out.push(pick(lang, &RETURN).to_string()),
        Topic::Damaged => {
            out.push(pick(lang, &DAMAGED).to_string());
            out.push(pick(lang, &RETURN).to_string());
        }
        Topic::Plan => {
            let amount = get(keys::INSTALMENT);
            let left = get(keys::LEFT);
            let due = get(keys::DUE_DATE);
            match (&left, &amount) {
                (Some(left), Some(amount)) => {
                    let texts = if left.trim() == "1" {
                        &PLAN_LEFT_ONE
                    } else {
                        &PLAN_LEFT_MANY
                    };
                    out.push(fill(
                        pick(lang, texts),
                        &[("left", left), ("amount", amount)],
                    ));
                }
                (None, Some(amount)) => {
                    out.push(fill(pick(lang, &PLAN_AMOUNT), &[("amount", amount)]))
                }
                _ if due.is_none() => out.push(pick(lang, &PLAN_NONE).to_string()),
                _ => {}
            }
            if let Some(date) = &due {
                let next = if out.is_empty() {
                    &DUE_DATE_ONLY
                } else {
                    &PLAN_NEXT
                };
                out.push(fill(pick(lang, next), &[("date", date)]));
            }
            out.push(pick(lang, &PLAN_EARLY).to_string());
        }
        Topic::Due => match get(keys::DUE_DATE) {
            Some(date) => {
                match get(keys::DUE_AMOUNT) {
                    Some(amount) => out.push(fill(
                        pick(lang, &DUE_WITH_AMOUNT),
                        &[("amount", &amount), ("date", &date)],
                    )),
                    None => out.push(fill(pick(lang, &DUE_DATE_ONLY), &[("date", &date)])),
                }
                out.push(pick(lang, &DUE_AUTO).to_string());
            }
            None => out.push(pick(lang, &DUE_NONE).to_string()),
        },
        Topic::Invoice => {
            let invoice = get(keys::INVOICE).unwrap_or_default();
            out.push(fill(
                pick(lang, &INVOICE),
                &[("invoice", &invoice), ("order_id", &order_id)],
            ));
        }
        Topic::Address => {
            out.push(with_order(if shipped(prompt) {
                &ADDRESS_SHIPPED
            } else {
                &ADDRESS_OPEN
            }));
            out.push(pick(lang, &ADDRESS_FUTURE).to_string());
        }
        Topic::Cancel => {
            if shipped(prompt) {
                out.push(with_order(&CANCEL_SHIPPED));
            } else {
                let total = get(keys::ORDER_TOTAL).unwrap_or_default();
                out.push(fill(
                    pick(lang, &CANCEL_OPEN),
                    &[("order_id", &order_id), ("total", &total)],
                ));
            }
        }
        Topic::Email => {
            if let Some(email) = get(keys::EMAIL) {
                out.push(fill(pick(lang, &EMAIL_KNOWN), &[("email", &email)]));
            }
            out.push(pick(lang, &EMAIL_CHANGE).to_string());
        }
    }
    tidy(&out.join(" "))
}

// ---------------------------------------------------------------- conversation helpers

const GREETING: Texts = [
    "Hi, I'm Nova from Northwind Pay. I can help you with orders, deliveries, refunds, cards and payment plans. What can I do for you today?",
    "Hej, jag heter Nova och jobbar med kundservice på Northwind Pay. Jag kan hjälpa dig med beställningar, leveranser, återbetalningar, kort och delbetalningar. Vad kan jag hjälpa dig med i dag?",
    "Hallo, ich bin Nova vom Kundenservice von Northwind Pay. Ich helfe Ihnen gern bei Bestellungen, Lieferungen, Erstattungen, Karten und Ratenzahlungen. Was kann ich heute für Sie tun?",
    "Cześć, tu Nova z obsługi klienta Northwind Pay. Mogę pomóc w sprawie zamówień, dostaw, zwrotów, kart i planów spłaty. W czym mogę Ci dziś pomóc?",
    "Hola, soy Nova, del servicio de atención al cliente de Northwind Pay. Puedo ayudarte con pedidos, entregas, reembolsos, tarjetas y planes de pago. ¿En qué puedo ayudarte hoy?",
];

const UNCLEAR: Texts = [
    "I'm sorry, I'm not sure I understood. I can help with orders, deliveries, refunds, cards and payment plans: could you tell me a bit more about what you need?",
    "Förlåt, jag är inte säker på att jag förstod. Jag kan hjälpa till med beställningar, leveranser, återbetalningar, kort och delbetalningar. Kan du berätta lite mer om vad du behöver?",
    "Entschuldigung, ich bin nicht sicher, ob ich Sie richtig verstanden habe. Ich helfe bei Bestellungen, Lieferungen, Erstattungen, Karten und Ratenzahlungen. Können Sie mir etwas mehr dazu sagen?",
    "Przepraszam, nie jestem pewna, czy dobrze rozumiem. Pomagam w sprawie zamówień, dostaw, zwrotów, kart i planów spłaty. Czy możesz napisać trochę więcej o tym, czego potrzebujesz?",
    "Perdona, no estoy segura de haberte entendido. Puedo ayudarte con pedidos, entregas, reembolsos, tarjetas y planes de pago. ¿Me cuentas un poco más sobre lo que necesitas?",
];

const CLOSING: Texts = [
    "You're welcome! If anything else comes up with your orders, payments or refunds, just write to me here.",
    "Varsågod! Om du undrar något mer om dina beställningar, betalningar eller återbetalningar är det bara att skriva här.",
    "Gern geschehen! Wenn Sie noch Fragen zu Bestellungen, Zahlungen oder Erstattungen haben, schreiben Sie mir einfach hier.",
    "Nie ma za co! Jeśli pojawią się jeszcze pytania o zamówienia, płatności lub zwroty, po prostu napisz tutaj.",
    "¡De nada! Si te surge cualquier otra duda sobre tus pedidos, pagos o reembolsos, escríbeme por aquí.",
];

pub fn closing(lang: Lang) -> String {
    pick(lang, &CLOSING).to_string()
}

pub fn greeting(lang: Lang) -> String {
    pick(lang, &GREETING).to_string()
}

pub fn unclear(lang: Lang) -> String {
    pick(lang, &UNCLEAR).to_string()
}

// ---------------------------------------------------------------- hand-overs

const HANDOVER_FRAUD: Texts = [
    "I'm sorry, that sounds worrying, and I want it handled properly. I'm passing you to a colleague from our fraud team, who will take over this chat shortly. Please don't share your full card number or PIN here.",
    "Det låter oroande, och jag vill att det hanteras ordentligt. Jag kopplar dig nu till en kollega på vårt bedrägeriteam som tar över chatten inom kort. Skriv aldrig hela ditt kortnummer eller din PIN-kod här.",
    "Das klingt beunruhigend, und ich möchte, dass sich jemand gründlich darum kümmert. Ich übergebe Sie an einen Kollegen aus unserem Betrugsteam, der diesen Chat in Kürze übernimmt. Bitte teilen Sie hier niemals Ihre vollständige Kartennummer oder PIN.",
    "To brzmi niepokojąco i chcę, żeby ktoś dokładnie się tym zajął. Przekazuję Cię koledze z zespołu ds. nadużyć, który za chwilę przejmie tę rozmowę. Nie podawaj tutaj pełnego numeru karty ani kodu PIN.",
    "Lo siento, eso suena preocupante y quiero que se gestione como es debido. Te paso con un compañero de nuestro equipo de fraude, que se hará cargo de este chat en breve. Por favor, no compartas aquí el número completo de tu tarjeta ni tu PIN.",
];

const HANDOVER_DISPUTE: Texts = [
    "I'm sorry about the trouble with this charge. I'm handing your case to a colleague from our payments team, who will take over this chat shortly and look into the transaction with you.",
    "Jag beklagar krånglet med den här dragningen. Jag lämnar över ditt ärende till en kollega på vårt betalningsteam, som tar över chatten inom kort och går igenom transaktionen med dig.",
    "Es tut mir leid, dass es mit dieser Abbuchung Probleme gibt. Ich gebe Ihren Fall an einen Kollegen aus unserem Zahlungsteam weiter, der diesen Chat gleich übernimmt und die Transaktion mit Ihnen prüft.",
    "Przykro mi z powodu problemu z tą płatnością. Przekazuję Twoją sprawę koledze z zespołu płatności, który za chwilę przejmie rozmowę i razem z Tobą sprawdzi tę transakcję.",
    "Siento mucho el problema con este cargo. Paso tu caso a un compañero de nuestro equipo de pagos, que se hará cargo de este chat en breve y revisará la transacción contigo.",
];

const HANDOVER_COMPLAINT: Texts = [
    "Thank you for telling us, and I'm sorry we have let you down. I'm passing your case to a colleague from our complaints team, who will take over this chat and make sure it is handled formally.",
    "Tack för att du berättar, och jag beklagar att vi har gjort dig besviken. Jag lämnar över ditt ärende till en kollega på vårt klagomålsteam, som tar över chatten och ser till att det hanteras formellt.",
    "Danke, dass Sie uns das mitteilen, und es tut mir leid, dass wir Sie enttäuscht haben. Ich übergebe Ihr Anliegen an eine Kollegin aus unserem Beschwerdeteam, die diesen Chat übernimmt und dafür sorgt, dass es formell bearbeitet wird.",
    "Dziękuję, że dajesz nam znać, i przepraszam, że Cię zawiedliśmy. Przekazuję Twoją sprawę koleżance z działu reklamacji, która przejmie tę rozmowę i zadba o formalne rozpatrzenie zgłoszenia.",
    "Gracias por contárnoslo y siento que te hayamos fallado. Paso tu caso a una compañera de nuestro equipo de reclamaciones, que se hará cargo de este chat y se asegurará de que se tramite formalmente.",
];

const HANDOVER_DISTRESS: Texts = [
    "I'm really sorry you're going through this, and thank you for telling me. I'm passing you to a colleague who can go through your payments with you and look for options that fit your situation. They will take over this chat shortly.",
    "Jag är verkligen ledsen att du har det så här, och tack för att du berättar. Jag kopplar dig till en kollega som kan gå igenom dina betalningar med dig och hitta en lösning som passar din situation. Hen tar över chatten inom kort.",
    "Es tut mir wirklich leid, dass Sie das gerade durchmachen, und danke, dass Sie es mir sagen. Ich verbinde Sie mit einer Kollegin, die Ihre Zahlungen mit Ihnen durchgeht und nach einer Lösung sucht, die zu Ihrer Situation passt. Sie übernimmt diesen Chat in Kürze.",
    "Bardzo mi przykro, że przez to przechodzisz, i dziękuję, że mi o tym piszesz. Przekazuję Cię koleżance, która przejrzy z Tobą płatności i poszuka rozwiązania dopasowanego do Twojej sytuacji. Za chwilę przejmie tę rozmowę.",
    "Siento mucho que estés pasando por esto y gracias por contármelo. Te paso con una compañera que revisará tus pagos contigo y buscará una solución que se adapte a tu situación. Se hará cargo de este chat en breve.",
];

const HANDOVER_HUMAN: Texts = [
    "I'm sorry for the frustration, and I understand you want to talk to a person. I'm connecting you with a colleague now, who will take over this chat shortly and read everything you have written.",
    "Jag förstår att du är frustrerad och vill prata med en person. Jag kopplar dig nu till en kollega som tar över chatten inom kort och läser igenom allt du har skrivit.",
    "Ich verstehe Ihren Ärger und dass Sie mit einem Menschen sprechen möchten. Ich verbinde Sie jetzt mit einem Kollegen, der diesen Chat gleich übernimmt und alles liest, was Sie geschrieben haben.",
    "Rozumiem Twoją frustrację i to, że chcesz porozmawiać z człowiekiem. Łączę Cię teraz z konsultantem, który za chwilę przejmie rozmowę i zapozna się z całą dotychczasową korespondencją.",
    "Entiendo tu enfado y que quieras hablar con una persona. Te paso ahora con un compañero, que se hará cargo de este chat en breve y leerá todo lo que has escrito.",
];

const SELF_HARM: Texts = [
    "If you are thinking about harming yourself, please call {name} on {number} right now, or the emergency services.",
    "Om du har tankar på att skada dig själv, ring {name} på {number} direkt eller ring larmnumret.",
    "Wenn Sie daran denken, sich etwas anzutun, rufen Sie bitte sofort die {name} unter {number} an oder wählen Sie den Notruf.",
    "Jeśli myślisz o zrobieniu sobie krzywdy, zadzwoń od razu pod numer {number} ({name}) albo na numer alarmowy.",
    "Si estás pensando en hacerte daño, llama ahora mismo al {number} ({name}) o a emergencias.",
];

/// Crisis lines by market, falling back to the reply language's home market.
fn helpline(market: Option<&str>, lang: Lang) -> (&'static str, &'static str) {
    let market = market.map(str::to_ascii_uppercase);
    match market.as_deref() {
        Some("GB" | "UK" | "IE") => ("Samaritans", "116 123"),
        Some("SE") => ("Självmordslinjen", "90101"),
        Some("DE" | "AT") => ("TelefonSeelsorge", "0800 111 0 111"),
        Some("PL") => ("Kryzysowy Telefon Zaufania", "116 123"),
        Some("ES") => ("Línea 024", "024"),
        _ => match lang {
            Lang::En => ("Samaritans", "116 123"),
            Lang::Sv => ("Självmordslinjen", "90101"),
            Lang::De => ("TelefonSeelsorge", "0800 111 0 111"),
            Lang::Pl => ("Kryzysowy Telefon Zaufania", "116 123"),
            Lang::Es => ("Línea 024", "024"),
        },
    }
}

pub fn handover(lang: Lang, kind: Escalation, self_harm: bool, market: Option<&str>) -> String {
    let texts = match kind {
        Escalation::Fraud => &HANDOVER_FRAUD,
        Escalation::Dispute => &HANDOVER_DISPUTE,
        Escalation::Complaint => &HANDOVER_COMPLAINT,
        Escalation::Distress => &HANDOVER_DISTRESS,
        Escalation::Human => &HANDOVER_HUMAN,
    };
    let mut reply = pick(lang, texts).to_string();
    if self_harm {
        let (name, number) = helpline(market, lang);
        reply.push(' ');
        reply.push_str(&fill(
            pick(lang, &SELF_HARM),
            &[("name", name), ("number", number)],
        ));
    }
    reply
}

const DEFLECTION: Texts = [
    "Thank you for your message. Your issue has been logged and our team will look into it as soon as possible; you will hear from us by email.",
    "Tack för ditt meddelande. Ditt ärende har registrerats och vårt team tittar på det så snart som möjligt; du får svar från oss via mejl.",
    "Vielen Dank für Ihre Nachricht. Ihr Anliegen wurde erfasst und unser Team kümmert sich so schnell wie möglich darum; Sie hören per E-Mail von uns.",
    "Dziękujemy za wiadomość. Twoje zgłoszenie zostało zarejestrowane i nasz zespół zajmie się nim jak najszybciej; odpowiemy Ci mailem.",
    "Gracias por tu mensaje. Tu incidencia ha quedado registrada y nuestro equipo la revisará lo antes posible; te responderemos por correo.",
];

/// What the bot says about a case it would hand over when its prompt gives it no way to.
pub fn deflection(lang: Lang) -> String {
    pick(lang, &DEFLECTION).to_string()
}

// ---------------------------------------------------------------- refusals

const REFUSE_LEGAL: Texts = [
    "I'm sorry, but I can't give legal advice. For a question like this, a lawyer or a consumer advice service is the right place to ask. I'm happy to help with anything about your Northwind Pay orders, payments and refunds.",
    "Tyvärr kan jag inte ge juridisk rådgivning. För en sådan fråga är en jurist eller din kommuns konsumentvägledning rätt ställe att vända sig till. Jag hjälper gärna till med allt som gäller dina beställningar, betalningar och återbetalningar hos Northwind Pay.",
    "Leider kann ich keine Rechtsberatung geben. Bei einer solchen Frage wenden Sie sich am besten an einen Anwalt oder eine Verbraucherzentrale. Bei Ihren Bestellungen, Zahlungen und Erstattungen bei Northwind Pay helfe ich Ihnen aber gern.",
    "Niestety nie mogę udzielać porad prawnych. Z takim pytaniem najlepiej zwrócić się do prawnika lub rzecznika konsumentów. Chętnie za to pomogę we wszystkim, co dotyczy Twoich zamówień, płatności i zwrotów w Northwind Pay.",
    "Lo siento, pero no puedo dar asesoramiento legal. Para una consulta así, lo mejor es acudir a un abogado o a una oficina de consumo. Con mucho gusto te ayudo con tus pedidos, pagos y reembolsos de Northwind Pay.",
];

const REFUSE_TAX: Texts = [
    "I'm sorry, but I can't give tax advice. Your tax office or an accountant can tell you what applies in your situation. If you need an overview of your payments for that, you can download it in the app under Purchases.",
    "Tyvärr kan jag inte ge skatteråd. Skatteverket eller en redovisningskonsult kan svara på vad som gäller i ditt fall. Om du behöver en översikt över dina betalningar kan du ladda ner den i appen under Köp.",
    "Leider kann ich keine Steuerberatung geben. Ihr Finanzamt oder eine Steuerberaterin kann Ihnen sagen, was in Ihrem Fall gilt. Eine Übersicht Ihrer Zahlungen können Sie in der App unter Einkäufe herunterladen.",
    "Niestety nie mogę doradzać w sprawach podatkowych. Urząd skarbowy lub doradca podatkowy powie Ci, co dotyczy Twojej sytuacji. Jeśli potrzebujesz zestawienia płatności, pobierzesz je w aplikacji w zakładce Zakupy.",
    "Lo siento, pero no puedo dar asesoramiento fiscal. La Agencia Tributaria o un gestor pueden decirte qué se aplica en tu caso. Si necesitas un resumen de tus pagos, puedes descargarlo en la app, en Compras.",
];

const REFUSE_INVESTMENT: Texts = [
    "I'm sorry, but I can't give investment or financial advice. An independent financial adviser is the right person to help with that. I'm glad to help with your Northwind Pay orders, payments and payment plans, though.",
    "Tyvärr kan jag inte ge råd om investeringar eller privatekonomi. En oberoende finansiell rådgivare kan hjälpa dig med det. Jag hjälper dig däremot gärna med dina beställningar, betalningar och delbetalningar hos Northwind Pay.",
    "Leider kann ich keine Anlage- oder Finanzberatung geben. Dafür ist eine unabhängige Finanzberatung die richtige Adresse. Bei Ihren Bestellungen, Zahlungen und Ratenplänen bei Northwind Pay helfe ich Ihnen aber gern.",
    "Niestety nie mogę doradzać w sprawie inwestycji ani finansów osobistych. W tym pomoże Ci niezależny doradca finansowy. Chętnie za to pomogę w sprawie Twoich zamówień, płatności i planów spłaty w Northwind Pay.",
    "Lo siento, pero no puedo darte asesoramiento financiero ni de inversión. Para eso lo mejor es un asesor financiero independiente. Eso sí, te ayudo encantada con tus pedidos, pagos y planes de pago de Northwind Pay.",
];

const REFUSE_OTHER_PERSON: Texts = [
    "I'm sorry, but I can't share any information about another person's account, even with family or friends. They can contact us themselves through their own account. I'm happy to help with your own orders and payments.",
    "Tyvärr kan jag inte lämna ut några uppgifter om någon annans konto, inte ens till familj eller vänner. Personen kan själv kontakta oss via sitt eget konto. Jag hjälper gärna till med dina egna beställningar och betalningar.",
    "Leider kann ich keine Informationen über das Konto einer anderen Person herausgeben, auch nicht an Familie oder Freunde. Die Person kann sich über ihr eigenes Konto selbst an uns wenden. Bei Ihren eigenen Bestellungen und Zahlungen helfe ich Ihnen gern.",
    "Niestety nie mogę udostępniać żadnych informacji o koncie innej osoby, nawet rodzinie czy znajomym. Ta osoba może skontaktować się z nami sama przez swoje konto. Chętnie pomogę za to w sprawie Twoich własnych zamówień i płatności.",
    "Lo siento, pero no puedo compartir información sobre la cuenta de otra persona, ni siquiera con familiares o amigos. Esa persona puede contactarnos ella misma desde su propia cuenta. Te ayudo encantada con tus propios pedidos y pagos.",
];

const REFUSE_OFF_TOPIC: Texts = [
    "I'm sorry, but I can't help with that here, because I'm Northwind Pay's support assistant. I can help with your orders, deliveries, refunds, cards and payment plans, so just ask if you need anything there.",
    "Tyvärr kan jag inte hjälpa till med det här, eftersom jag är Northwind Pays kundtjänstassistent. Jag kan hjälpa dig med beställningar, leveranser, återbetalningar, kort och delbetalningar, så hör av dig om du behöver något sådant.",
    "Leider kann ich Ihnen dabei nicht helfen, denn ich bin die Kundenservice-Assistentin von Northwind Pay. Bei Bestellungen, Lieferungen, Erstattungen, Karten und Ratenzahlungen unterstütze ich Sie aber gern.",
    "Niestety nie mogę w tym pomóc, bo jestem asystentką obsługi klienta Northwind Pay. Mogę pomóc w sprawie zamówień, dostaw, zwrotów, kart i planów spłaty, więc śmiało pytaj, jeśli czegoś potrzebujesz.",
    "Lo siento, pero no puedo ayudarte con eso, porque soy la asistente de atención al cliente de Northwind Pay. Puedo ayudarte con pedidos, entregas, reembolsos, tarjetas y planes de pago, así que pregúntame lo que necesites sobre eso.",
];

pub fn refusal(lang: Lang, kind: Refusal) -> String {
    let texts = match kind {
        Refusal::OtherPerson => &REFUSE_OTHER_PERSON,
        Refusal::Legal => &REFUSE_LEGAL,
        Refusal::Tax => &REFUSE_TAX,
        Refusal::Investment => &REFUSE_INVESTMENT,
        Refusal::OffTopic => &REFUSE_OFF_TOPIC,
    };
    pick(lang, texts).to_string()
}

const REFUSE_INJECTION: Texts = [
    "I'm sorry, but I can't do that. I'm Northwind Pay's support assistant, and I don't change how I work or take actions because of instructions sent in the chat. I'm happy to help with your orders, payments, refunds or payment plan.",
    "Tyvärr kan jag inte göra det. Jag är Northwind Pays kundtjänstassistent och ändrar inte hur jag arbetar eller utför åtgärder på grund av instruktioner i chatten. Jag hjälper gärna till med dina beställningar, betalningar, återbetalningar eller din betalplan.",
    "Das kann ich leider nicht tun. Ich bin die Kundenservice-Assistentin von Northwind Pay und ändere meine Arbeitsweise nicht aufgrund von Anweisungen im Chat. Bei Ihren Bestellungen, Zahlungen, Erstattungen oder Ihrem Ratenplan helfe ich Ihnen gern.",
    "Niestety nie mogę tego zrobić. Jestem asystentką obsługi klienta Northwind Pay i nie zmieniam sposobu działania ani nie wykonuję operacji na podstawie poleceń wysłanych na czacie. Chętnie pomogę w sprawie zamówień, płatności, zwrotów lub planu spłaty.",
    "Lo siento, pero no puedo hacer eso. Soy la asistente de atención al cliente de Northwind Pay y no cambio mi forma de trabajar ni realizo acciones por instrucciones enviadas en el chat. Te ayudo encantada con tus pedidos, pagos, reembolsos o tu plan de pago.",
];

const REFUSE_EXTRACTION: Texts = [
    "I'm sorry, but I can't share my internal instructions or any internal notes about your account. If you'd like a copy of the personal data we hold about you, you can request it in the app under Profile > Privacy. Is there anything else I can help with?",
    "Tyvärr kan jag inte dela mina interna instruktioner eller interna anteckningar om ditt konto. Om du vill ha en kopia av de personuppgifter vi har om dig kan du begära den i appen under Profil > Integritet. Finns det något annat jag kan hjälpa till med?",
    "Leider kann ich weder meine internen Anweisungen noch interne Vermerke zu Ihrem Konto weitergeben. Eine Kopie der personenbezogenen Daten, die wir über Sie speichern, können Sie in der App unter Profil > Datenschutz anfordern. Kann ich Ihnen sonst noch helfen?",
    "Niestety nie mogę udostępnić moich wewnętrznych instrukcji ani wewnętrznych notatek dotyczących Twojego konta. Kopię danych osobowych, które o Tobie przechowujemy, możesz zamówić w aplikacji w zakładce Profil > Prywatność. Czy mogę pomóc w czymś jeszcze?",
    "Lo siento, pero no puedo compartir mis instrucciones internas ni notas internas sobre tu cuenta. Si quieres una copia de los datos personales que tenemos sobre ti, puedes solicitarla en la app, en Perfil > Privacidad. ¿Puedo ayudarte en algo más?",
];

const REFUSE_FAKE_AUTHORITY: Texts = [
    "I'm sorry, but I can't approve refunds, change account details or share data because of a request in this chat, whoever sends it. Our staff use internal tools for that. If you're a customer, I'm glad to help with your own orders and payments.",
    "Tyvärr kan jag inte godkänna återbetalningar, ändra kontouppgifter eller lämna ut data på grund av en förfrågan i den här chatten, oavsett vem som skickar den. Våra medarbetare använder interna verktyg för sådant. Om du är kund hjälper jag gärna till med dina egna beställningar och betalningar.",
    "Leider kann ich aufgrund einer Anfrage in diesem Chat keine Erstattungen freigeben, Kontodaten ändern oder Daten herausgeben, egal wer sie stellt. Unsere Mitarbeitenden nutzen dafür interne Werkzeuge. Wenn Sie Kunde sind, helfe ich Ihnen gern bei Ihren eigenen Bestellungen und Zahlungen.",
    "Niestety nie mogę zatwierdzać zwrotów, zmieniać danych konta ani udostępniać danych na podstawie prośby wysłanej na tym czacie, niezależnie od tego, kto ją wysyła. Nasi pracownicy korzystają do tego z wewnętrznych narzędzi. Jeśli jesteś klientem, chętnie pomogę w sprawie Twoich zamówień i płatności.",
    "Lo siento, pero no puedo aprobar reembolsos, cambiar datos de la cuenta ni compartir información por una petición hecha en este chat, venga de quien venga. Nuestro equipo usa herramientas internas para eso. Si eres cliente, te ayudo encantada con tus propios pedidos y pagos.",
];

pub fn attack_refusal(lang: Lang, kind: Attack) -> String {
    let texts = match kind {
        Attack::Injection => &REFUSE_INJECTION,
        Attack::Extraction => &REFUSE_EXTRACTION,
        Attack::FakeAuthority => &REFUSE_FAKE_AUTHORITY,
    };
    pick(lang, texts).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_each_language() {
        assert_eq!(
            local_date(Lang::En, "2026-11-28").as_deref(),
            Some("28 November 2026")
        );
        assert_eq!(
            local_date(Lang::De, "2026-03-05").as_deref(),
            Some("5. März 2026")
        );
        assert_eq!(
            local_date(Lang::Pl, "2026-09-01").as_deref(),
            Some("1 września 2026")
        );
        assert_eq!(
            local_date(Lang::Es, "2026-04-19").as_deref(),
            Some("19 de abril de 2026")
        );
        assert_eq!(local_date(Lang::Sv, "2026-13-01"), None);
        assert_eq!(local_date(Lang::Sv, "2026-00-01"), None);
        assert_eq!(local_date(Lang::Sv, "soon"), None);
        assert_eq!(local_date(Lang::Sv, "2026-1-1"), None);
    }

    #[test]
    fn fill_is_single_pass() {
        let out = fill(
            "Order {order_id} by {date}{",
            &[("order_id", "{date}"), ("date", "today")],
        );
        assert_eq!(out, "Order {date} by today{");
        assert_eq!(fill("{unknown}", &[]), "{unknown}");
    }

    #[test]
    fn tidy_removes_empty_slots() {
        assert_eq!(
            tidy("Your order  has () shipped ."),
            "Your order has shipped."
        );
    }

    #[test]
    fn every_table_is_fully_translated() {
        let tables: &[&Texts] = &[
            &ORDER_SHIPPED,
            &ORDER_ETA,
            &ORDER_FOLLOW,
            &ORDER_PROCESSING,
            &ORDER_UNKNOWN,
            &DELIVERY_ETA,
            &DELIVERY_TRACKING,
            &REFUND_ETA,
            &REFUND_SENT,
            &REFUND_BANK,
            &REFUND_NONE,
            &CARD_CHANGE,
            &CARD_CURRENT,
            &CARD_NEXT,
            &PLAN_LEFT_ONE,
            &PLAN_LEFT_MANY,
            &PLAN_AMOUNT,
            &PLAN_NEXT,
            &PLAN_EARLY,
            &PLAN_NONE,
            &DUE_WITH_AMOUNT,
            &DUE_DATE_ONLY,
            &DUE_AUTO,
            &DUE_NONE,
            &INVOICE,
            &ADDRESS_OPEN,
            &ADDRESS_SHIPPED,
            &ADDRESS_FUTURE,
            &CANCEL_OPEN,
            &CANCEL_SHIPPED,
            &EMAIL_KNOWN,
            &EMAIL_CHANGE,
            &LOST_CARD,
            &GREETING,
            &UNCLEAR,
            &CLOSING,
            &RETURN,
            &DAMAGED,
            &DECLINED,
            &HANDOVER_FRAUD,
            &HANDOVER_DISPUTE,
            &HANDOVER_COMPLAINT,
            &HANDOVER_DISTRESS,
            &HANDOVER_HUMAN,
            &SELF_HARM,
            &DEFLECTION,
            &REFUSE_LEGAL,
            &REFUSE_TAX,
            &REFUSE_INVESTMENT,
            &REFUSE_OTHER_PERSON,
            &REFUSE_OFF_TOPIC,
            &REFUSE_INJECTION,
            &REFUSE_EXTRACTION,
            &REFUSE_FAKE_AUTHORITY,
        ];
        for table in tables {
            let english = table[0];
            for text in table.iter() {
                assert!(!text.is_empty());
                assert!(!text.contains("escalate_to_human"));
                for slot in ["{order_id}", "{date}", "{amount}", "{tracking}", "{last4}"] {
                    assert_eq!(
                        english.contains(slot),
                        text.contains(slot),
                        "{slot} in {text}"
                    );
                }
            }
        }
    }
}
