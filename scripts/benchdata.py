"""Generated news feeds for the benchmarks: realistic shape, no real outlet's text.

``make_feeds(n_feeds, items)`` returns ``(name, bytes)`` pairs: RSS 2.0 with
``content:encoded`` (most), Atom 1.0 (every fifth feed), ~48% Simplified
Chinese, ~12% Traditional Chinese, ~40% English, 2–8 KB of article HTML per
item with share bars, scripts, tracking pixels and promo footers, like the
feeds tidings archives. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from xml.sax.saxutils import escape

HANS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所"
    "民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社"
    "义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提"
    "直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决"
    "西被干做必战先回则任取据处理停火加沙外长会议呼吁巴以两国共存框架"
)
HANT = (
    "的一是在不了有和人這中大為上個國我以要他時來用們生到作地於出就分對成會可主發年動同工也能下過子說產種面而方後多定行學法所"
    "民得經十三之進著等部度家電力裡如水化高自二理起小物現實加量都兩體制機當使點從業本去把性好應開它合還因由其些然前外天政四日那社"
    "義事平形相全表間樣與關各重新線內數正心反你明看原又麼利比或但質氣第向道命此變條只沒結解問意建月公無系軍很情者最立代想已通並提"
    "停火加沙外長會議呼籲巴以兩國共存框架"
)
WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her she there been one all we their has would when if so no will more can out up who said do into what "
    "about than them some could its time ceasefire minister talks council market ferry harbour election budget court "
    "report police weather storm rescue hospital school university energy prices trade border"
).split()

SHARE = (
    '<div data-root-share="true" class="share"><a href="https://www.facebook.com/sharer/sharer.php?u={url}">Facebook</a>'
    '<a href="https://x.com/intent/tweet?url={url}">X</a><a href="whatsapp://send?text={url}">WhatsApp</a></div>'
)
SCRIPT = '<script>window.dataLayer=window.dataLayer||[];dataLayer.push({{"article":"{n}"}});</script>'
PIXEL = '<img src="https://track.example/pixel.gif?id={n}" width="1" height="1" alt="">'
PROMO = '<div data-selfpromo-block="newsletter"><p>Sign up for our newsletter 订阅我们的新闻通讯</p></div>'
FOOTER = '<br><hr><div>获取更多RSS：<br><a href="https://feedx.net">https://feedx.net</a></div>'


def _text(rng: random.Random, lang: str, size: int) -> str:
    if lang == "en":
        words = [rng.choice(WORDS) for _ in range(max(3, size // 6))]
        return " ".join(words).capitalize() + "."
    alphabet = HANS if lang == "zh-Hans" else HANT
    return "".join(rng.choice(alphabet) for _ in range(max(2, size // 3))) + "。"


def _paragraph(rng: random.Random, lang: str, n: int) -> str:
    """A paragraph with the inline markup news copy carries: links, emphasis, quotes."""
    pieces = []
    for _ in range(rng.randint(2, 4)):
        text = escape(_text(rng, lang, rng.randint(40, 160)))
        roll = rng.random()
        if roll < 0.25:
            text = f'<a href="https://news.example/topic/{rng.randint(1, 999)}">{text}</a>'
        elif roll < 0.4:
            text = f"<strong>{text}</strong>"
        elif roll < 0.5:
            text = f"<em>{text}</em>"
        elif roll < 0.55:
            text = f'<span class="highlight">{text}</span>'
        pieces.append(text)
    return "<p>" + " ".join(pieces) + "</p>"


def _article_html(rng: random.Random, lang: str, url: str, n: int) -> str:
    target = rng.randint(2000, 8000)
    parts = [
        f'<figure><img src="https://img.example/{n}.jpg" alt="photo" width="800" height="450">'
        f"<figcaption>{escape(_text(rng, lang, 60))}</figcaption></figure>",
        SHARE.format(url=url),
    ]
    size = sum(map(len, parts))
    while size < target:
        roll = rng.random()
        if roll < 0.08:
            block = f"<blockquote><p>{escape(_text(rng, lang, 120))}</p></blockquote>"
        elif roll < 0.14:
            block = f"<h2>{escape(_text(rng, lang, 30))}</h2>"
        elif roll < 0.18:
            items = "".join(
                f'<li><a href="https://news.example/related/{rng.randint(1, 9999)}">'
                f"{escape(_text(rng, lang, 40))}</a></li>"
                for _ in range(3)
            )
            block = f'<ul class="related">{items}</ul>'
        else:
            block = _paragraph(rng, lang, n)
        parts.append(block)
        size += len(block.encode())
    parts += [SCRIPT.format(n=n), PIXEL.format(n=n), PROMO, FOOTER]
    return "".join(parts)


def _language(index: int) -> str:
    slot = index % 25
    if slot < 12:
        return "zh-Hans"
    if slot < 15:
        return "zh-Hant"
    return "en"


def make_feed(index: int, items: int, seed: int = 7, start: datetime | None = None) -> bytes:
    """One generated feed (RSS 2.0, or Atom for every fifth)."""
    rng = random.Random(seed * 100_003 + index)
    lang = _language(index)
    start = start or datetime(2025, 11, 1, tzinfo=timezone.utc)
    site = f"https://news{index}.example"
    entries = []
    for n in range(items):
        url = f"{site}/{2025}/{index}-{n}.html"
        title = _text(rng, lang, rng.randint(30, 90)).rstrip("。.")
        when = start + timedelta(minutes=37 * n + index)
        html = _article_html(rng, lang, url, index * 1000 + n)
        entries.append((url, title, when, html))
    if index % 5 == 4:
        body = "".join(
            f"<entry><id>{url}</id><title>{escape(title)}</title>"
            f'<link rel="alternate" href="{url}"/><published>{when.isoformat()}</published>'
            f"<updated>{when.isoformat()}</updated><author><name>记者 {index}</name></author>"
            f'<category term="news"/><summary>{escape(title)}</summary>'
            f'<content type="html">{escape(html)}</content></entry>'
            for url, title, when, html in entries
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{lang}"><title>新闻 {index}</title>'
            f'<link href="{site}/"/><id>{site}/</id><updated>{start.isoformat()}</updated>{body}</feed>'
        ).encode()
    body = "".join(
        f"<item><title>{escape(title)}</title><link>{url}</link>"
        f'<guid isPermaLink="true">{url}</guid><pubDate>{format_datetime(when)}</pubDate>'
        f"<dc:creator>记者 {index}</dc:creator><category>新闻</category>"
        f"<description>{escape(title)}</description>"
        f"<content:encoded><![CDATA[{html}]]></content:encoded></item>"
        for url, title, when, html in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>新闻 {index}</title><link>{site}/</link><description>generated</description>"
        f"<language>{lang}</language><ttl>60</ttl>{body}</channel></rss>"
    ).encode()


def make_feeds(n_feeds: int = 200, items: int = 50, seed: int = 7) -> list[tuple[str, bytes]]:
    """``n_feeds`` generated feeds of ``items`` entries each."""
    return [(f"feed-{i:04d}.xml", make_feed(i, items, seed)) for i in range(n_feeds)]
