#!/usr/bin/env python3
"""Scrapy 2.19 crawling the govcap fixture with govcap's monitor settings (run by
`govcap-bench crawl`, which passes every setting on the command line).

Scrapy only fetches and parses links here: no WARC, no checks. The bounds mirror
govcap-monitor's crawl (crates/govcap-monitor/src/crawl.rs): breadth first, same depth,
same page cap per site (home included), same scope (host:port and the portal's path
prefix), same skipped extensions, same per-pattern cap and pattern-chain guard, robots.txt
obeyed, same user agent, per-host concurrency and delay, timeout, redirects and retries.

Prints "key value" lines on stdout: pages, crawl time, peak RSS, then "site CODE PAGES".
"""

import argparse
import csv
import re
import resource
import sys
import time
from urllib.parse import urlsplit, urlunsplit, parse_qsl, urlencode

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import IgnoreRequest

# crates/govcap-monitor/src/crawl.rs SKIP_EXTENSIONS
SKIP_EXTENSIONS = set(
    "pdf doc docx xls xlsx ppt pptx wps et dps ofd zip rar 7z gz tgz tar bz2 jpg jpeg png gif "
    "bmp svg webp ico tif tiff mp3 mp4 avi flv wmv mov mkv swf wav exe apk dmg iso msi css js "
    "json xml txt csv woff woff2 ttf".split()
)
MAX_PATTERN_CHAIN = 5  # crawl.rs MAX_PATTERN_CHAIN
DIGITS = re.compile(r"[0-9]+")


def host_key(u):
    p = urlsplit(u)
    port = p.port or (443 if p.scheme == "https" else 80)
    return f"{p.hostname}:{port}"


def normalise(u):
    """Fragment dropped, query pairs sorted (crawl.rs normalise)."""
    p = urlsplit(u)
    q = urlencode(sorted(parse_qsl(p.query, keep_blank_values=True)))
    return urlunsplit((p.scheme, p.netloc, p.path or "/", q, ""))


def pattern_key(u):
    p = urlsplit(u)
    keys = sorted({k for k, _ in parse_qsl(p.query, keep_blank_values=True)})
    return (p.hostname or "") + DIGITS.sub("0", p.path) + "?" + "&".join(keys)


def skipped_extension(u):
    last = urlsplit(u).path.rsplit("/", 1)[-1]
    return "." in last and last.rsplit(".", 1)[-1].lower() in SKIP_EXTENSIONS


class Site:
    def __init__(self, code, url, max_pages, max_per_pattern):
        self.code = code
        self.host = host_key(url)
        path = urlsplit(url).path
        self.prefix = path[: path.rfind("/") + 1] or "/"
        self.seen = {normalise(url)}
        self.patterns = {}
        self.scheduled = 1  # the home page
        # Links found once the page budget was spent, in order: a slot freed by a robots.txt
        # refusal goes to the next of them, as ours takes the next URL of its frontier.
        self.backlog = []
        self.max_pages = max_pages
        self.max_per_pattern = max_per_pattern
        self.pages = 0

    def in_scope(self, u):
        return host_key(u) == self.host and urlsplit(u).path.startswith(self.prefix)


class FixtureSpider(scrapy.Spider):
    name = "govcap_fixture"

    def __init__(self, sites, args, **kw):
        super().__init__(**kw)
        self.sites = sites
        self.args = args
        self.errors = 0

    async def start(self):
        for s, url in self.sites:
            yield scrapy.Request(
                url,
                callback=self.parse,
                errback=self.failed,
                cb_kwargs={"site": s, "chain": 0},
                dont_filter=True,
            )

    def failed(self, failure):
        site = failure.request.cb_kwargs["site"]
        if failure.check(IgnoreRequest):
            # Refused by robots.txt: ours skips these without spending the page budget, and
            # fills the slot from its frontier.
            site.scheduled -= 1
            while site.backlog and site.scheduled < site.max_pages:
                u, c, d = site.backlog.pop(0)
                site.scheduled += 1
                yield self.request(u, site, c, d)
            return
        site.pages += 1
        self.errors += 1

    def request(self, u, site, chain, depth):
        # The depth is set here too: requests made in an errback have no response to count from.
        return scrapy.Request(
            u,
            callback=self.parse,
            errback=self.failed,
            cb_kwargs={"site": site, "chain": chain},
            meta={"depth": depth},
        )

    def parse(self, response, site, chain):
        site.pages += 1
        if not isinstance(response, scrapy.http.TextResponse):
            return
        depth = response.meta.get("depth", 0)
        if depth >= self.args.max_depth:
            return
        parent_pattern = pattern_key(response.url)
        hrefs = response.css(
            "a::attr(href), area::attr(href), frame::attr(src), iframe::attr(src)"
        ).getall()
        for href in hrefs:
            u = response.urljoin(href.strip())
            if not u.startswith(("http://", "https://")):
                continue
            if not site.in_scope(u):
                continue
            n = normalise(u)
            if n in site.seen:
                continue
            site.seen.add(n)
            if skipped_extension(u):
                continue
            pat = pattern_key(u)
            c = chain + 1 if pat == parent_pattern else 0
            if site.patterns.get(pat, 0) >= site.max_per_pattern or c > MAX_PATTERN_CHAIN:
                continue
            site.patterns[pat] = site.patterns.get(pat, 0) + 1
            if site.scheduled >= site.max_pages:
                site.backlog.append((u, c, depth + 1))
                continue
            site.scheduled += 1
            yield self.request(u, site, c, depth + 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", required=True, help="CSV with code,portal_url")
    ap.add_argument("--user-agent", required=True)
    ap.add_argument("--max-depth", type=int, required=True)
    ap.add_argument("--max-pages", type=int, required=True)
    ap.add_argument("--max-per-pattern", type=int, required=True)
    ap.add_argument("--per-host", type=int, required=True)
    ap.add_argument("--delay", type=float, required=True, help="seconds between requests per host")
    ap.add_argument("--timeout", type=float, required=True)
    ap.add_argument("--retries", type=int, required=True)
    ap.add_argument("--max-redirects", type=int, required=True)
    ap.add_argument("--max-body-bytes", type=int, required=True)
    args = ap.parse_args()

    with open(args.sites, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    sites = [(Site(r["code"], r["portal_url"], args.max_pages, args.max_per_pattern), r["portal_url"]) for r in rows]
    hosts = {s.host for s, _ in sites}

    settings = {
        "BOT_NAME": "govcap_bench",
        "USER_AGENT": args.user_agent,
        "ROBOTSTXT_OBEY": True,
        "DEPTH_LIMIT": args.max_depth,
        # Breadth first, as ours.
        "DEPTH_PRIORITY": 1,
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        # Per-host politeness: the slot key is the host name, and every fixture host is its
        # own loopback address, so this is ours per host.
        "CONCURRENT_REQUESTS_PER_DOMAIN": args.per_host,
        "CONCURRENT_REQUESTS": max(16, args.per_host * len(hosts)),
        "DOWNLOAD_DELAY": args.delay,
        "DOWNLOAD_DELAY_JITTER": 0,  # fixed delay, as ours
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_TIMEOUT": args.timeout,
        "RETRY_ENABLED": args.retries > 0,
        "RETRY_TIMES": args.retries,
        "REDIRECT_MAX_TIMES": args.max_redirects,
        "DOWNLOAD_MAXSIZE": args.max_body_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "HTTPERROR_ALLOW_ALL": True,  # ours records 404 pages too
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(FixtureSpider)
    t0 = time.monotonic()
    process.crawl(crawler, sites=sites, args=args)
    process.start()
    secs = time.monotonic() - t0
    stats = crawler.stats.get_stats()
    # Plain "key value" lines (the bench reads them without a JSON parser).
    print("pages", sum(s.pages for s, _ in sites))
    print("errors", crawler.spider.errors)
    print("robots_skipped", stats.get("robotstxt/forbidden", 0))
    print("responses", stats.get("downloader/response_count", 0))
    print("crawl_ms", round(secs * 1000))
    # Linux reports kilobytes.
    print("peak_rss_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    for s, _ in sites:
        print("site", s.code, s.pages)


if __name__ == "__main__":
    main()
