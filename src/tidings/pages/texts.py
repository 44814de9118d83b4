"""The interface's words, in Chinese and English (chosen by ?lang=, a cookie, or Accept-Language)."""

from __future__ import annotations

__all__ = ["COUNTED", "TEXTS", "counted"]

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN", "sites": "新闻来源", "feeds": "订阅源", "feed": "订阅源", "articles": "文章",
        "last_fetch": "上次抓取", "last_success": "上次成功", "next_fetch": "下次抓取", "health": "状态",
        "no_feeds": "还没有订阅源", "empty": "没有文章", "today": "今天的文章", "older": "更早的文章",
        "original": "原文", "state": "状态", "revisions": "历史版本", "diff": "比较", "title": "标题",
        "text": "正文", "search": "搜索", "search_placeholder": "搜索：停火 site:法广",
        "no_results": "没有结果", "index_missing": "搜索索引还是空的：下次更新时重建（或运行 tidings reindex）",
        "more": "更多结果", "home": "首页", "time_zone": "时区", "set": "设定",
        "sign_in": "登录", "sign_out": "退出", "token": "令牌", "wrong_token": "令牌不对", "add_feed": "添加订阅源",
        "pause": "暂停", "resume": "恢复", "update_now": "立即更新", "remove": "删除", "url": "网址", "site": "来源名",
        "state_active": "正常", "state_paused": "已暂停", "state_gone": "已停刊（410）",
        "never_fetched": "从未抓取", "problem": "未能读取", "site_heading": "来源", "source_feed": "订阅源", "source_extracted": "全文提取",
        "source_import": "导入的文档", "comma": "，", "nothing_to_compare": "这篇文章只有一个版本，没有可以比较的。",
        "changes": "最近的改动", "site_changes": "{site} 的改动", "all_changes": "所有来源的改动",
        "no_changes": "还没有改动", "older_changes": "更早的改动", "history": "历史", "sightings": "看到的记录",
        "events": "状态变化", "no_events": "没有状态变化", "present": "在线", "missing": "已从订阅源消失",
        "deleted": "已删除", "missing_since": "从 {when} 起不在订阅源中", "deleted_at": "{when} 被删除",
        "present_since": "{when} 起重新出现", "evidence": "证据", "reason": "原因", "status": "HTTP 状态",
        "led_to": "链接指向", "checked": "检查时间", "source_check": "链接检查", "times": "{n} 次",
        "version": "版本 {n}", "revert": "回到了旧版本", "raw_variant": "字节不同，内容相同（原始内容已保存）",
        "changed": "改动", "changed_title": "标题", "changed_body": "正文", "changed_author": "作者",
        "changed_links": "链接", "changed_images": "图片", "edit": "修改", "edited": "修改了",
        "went_missing": "从订阅源消失", "was_deleted": "被删除", "came_back": "重新出现",
        "first_version": "第一个版本", "see_diff": "查看差异", "see_article": "查看文章",
        "state_since_unknown": "从首次看到起", "from_to": "{first} 至 {last}",
        "days": "按日期", "newer": "较新的文章", "all_pages": "所有页", "first_seen_at": "{when} 首次看到",
        "search_offline": "从本地文件打开时不能搜索：请通过网站服务器（例如 tidings serve 或任何静态网站服务器）打开这个镜像，或者按来源和日期浏览。",
        "search_loading": "正在搜索…", "search_failed": "搜索索引无法加载。",
        "search_fold": "搜索同时查找简体和繁体。", "sort_relevance": "最相关", "sort_new": "最新", "search_count": "找到 {n} 篇文章", "search_partial": "已找到 {n} 篇文章，还有更多",
    },
    "en": {
        "html_lang": "en", "sites": "Sites", "feeds": "Feeds", "feed": "Feed", "articles": "Articles",
        "last_fetch": "Last fetch", "last_success": "Last success", "next_fetch": "Next fetch",
        "health": "Health", "no_feeds": "No feeds yet", "empty": "No articles", "today": "Today's articles",
        "older": "Older articles", "original": "Original", "state": "State", "revisions": "Versions",
        "diff": "Compare", "title": "Title", "text": "Text", "search": "Search",
        "search_placeholder": "Search: ceasefire site:Gazette", "no_results": "No results",
        "index_missing": "The search index is empty until the next update builds it again (or run tidings reindex)",
        "more": "More results", "home": "Home", "time_zone": "Time zone", "set": "Set",
        "sign_in": "Sign in", "sign_out": "Sign out", "token": "Token", "wrong_token": "Wrong token",
        "add_feed": "Add a feed", "pause": "Pause", "resume": "Resume", "update_now": "Update now",
        "remove": "Remove", "url": "URL", "site": "Site name",
        "state_active": "active", "state_paused": "paused", "state_gone": "gone (410)",
        "never_fetched": "never fetched", "problem": "not read", "site_heading": "Site", "source_feed": "feed", "source_extracted": "extracted",
        "source_import": "imported document", "comma": ", ",
        "nothing_to_compare": "This article has one version only: there is nothing to compare.",
        "changes": "Recent changes", "site_changes": "Changes at {site}", "all_changes": "Changes at every site",
        "no_changes": "No changes yet", "older_changes": "Older changes", "history": "History",
        "sightings": "Sightings", "events": "State changes", "no_events": "No state changes",
        "present": "present", "missing": "missing", "deleted": "deleted",
        "missing_since": "missing from its feed since {when}", "deleted_at": "deleted at {when}",
        "present_since": "present again since {when}", "evidence": "Evidence", "reason": "reason",
        "status": "HTTP status", "led_to": "the link led to", "checked": "checked", "source_check": "link check",
        "times": "{n}×", "version": "version {n}", "revert": "back to an older version",
        "raw_variant": "different bytes, same content (raw content kept)", "changed": "changed",
        "changed_title": "title", "changed_body": "body", "changed_author": "author", "changed_links": "links",
        "changed_images": "images", "edit": "edit", "edited": "Edited", "went_missing": "Missing",
        "was_deleted": "Deleted", "came_back": "Back", "first_version": "first version",
        "see_diff": "see the differences", "see_article": "see the article",
        "state_since_unknown": "since first seen", "from_to": "{first} to {last}",
        "days": "By day", "newer": "Newer articles", "all_pages": "All pages", "first_seen_at": "first seen {when}",
        "search_offline": "Search does not work on pages opened from disk: open this mirror through a web server (tidings serve, or any static server), or browse by site and by day.",
        "search_loading": "Searching…", "search_failed": "The search index could not be loaded.",
        "search_fold": "Search finds Simplified and Traditional alike.", "sort_relevance": "Best matches", "sort_new": "Newest first", "search_count": "Articles found: {n}", "search_partial": "Articles found so far: {n}; there may be more",
    },
}  # fmt: skip

#: Counted things as (one, more) patterns; Chinese says every number the same way.
COUNTED: dict[str, dict[str, tuple[str, str]]] = {
    "zh": {"article": ("{n} 篇文章", "{n} 篇文章")},
    "en": {"article": ("{n} article", "{n} articles")},
}


def counted(lang: str, noun: str, number: int) -> str:
    """``number`` of ``noun`` in the language ``lang``: "1 article", "12 articles", "12 篇文章"."""
    one, more = COUNTED[lang][noun]
    return (one if number == 1 else more).format(n=f"{number:,}")
