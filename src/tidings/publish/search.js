// The search page of a published tidings mirror: runs the query of ?q= against the
// Pagefind index in pagefind/ and lists the articles that contain it. Opened from file://,
// where browsers do not load the index, it loads nothing and says so.
//
// Pagefind splits Chinese into words, so a string that spans two of its words would be
// missed by a phrase search; it is asked for every article that has all the words of the
// query, and each candidate is then checked for the query itself (folded as tidings folds
// text: NFKC, lower case, Traditional to Simplified), best candidates first, a batch at a
// time, so every hit shown contains what was asked.
(function () {
  "use strict";
  // The query's terms, folded, and a test of whether an article's text holds them all
  // (a Chinese term anywhere, any other at the start of a word). Shared with the benchmark.
  var table = window.TIDINGS_FOLD || {};
  function fold(text) {
    var out = "";
    for (var ch of text.normalize("NFKC").toLowerCase()) out += table[ch] || ch;
    return out;
  }
  var CJK = /[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]/;
  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }
  // The index: one Pagefind bundle per range of articles (search-shards.js lists them),
  // the first loaded, the others merged into it. Shared with the benchmark.
  var loaded = null;
  window.tidingsIndex = function () {
    if (loaded) return loaded;
    var base = new URL(".", location.href);
    var shards = window.TIDINGS_SHARDS || [];
    loaded = (async function () {
      if (!shards.length) throw new Error("no search index");
      var pagefind = await import(new URL("pagefind/" + shards[0] + "/pagefind.js", base).href);
      await pagefind.options({ baseUrl: base.pathname });
      for (var i = 1; i < shards.length; i++) {
        await pagefind.mergeIndex(new URL("pagefind/" + shards[i] + "/", base).pathname, { baseUrl: base.pathname });
      }
      return pagefind;
    })();
    return loaded;
  };
  function bigrams(term) {
    var grams = [];
    for (var i = 0; i + 1 < term.length; i++) grams.push(term.slice(i, i + 2));
    return grams.join(" ");
  }
  window.tidingsMatcher = function (query) {
    var terms = fold(query).replace(/["“”「」]/g, " ").split(/\s+/).filter(Boolean);
    // A CJK term is in an article when its folded text holds it, or when the bigrams the
    // page handed the index (folded by OpenCC phrase by phrase, which a table of single
    // characters cannot always match) hold its bigrams in a row.
    var checks = terms.map(function (term) {
      if (CJK.test(term)) {
        var grams = term.length > 1 ? " " + bigrams(term) + " " : null;
        return function (text, handed) { return text.indexOf(term) >= 0 || (grams !== null && handed.indexOf(grams) >= 0); };
      }
      var word = new RegExp("(^|[^\\p{L}\\p{N}])" + escapeRegExp(term), "u");
      return function (text) { return word.test(text); };
    });
    // What Pagefind is asked: first each CJK term as its bigrams (what the pages hand it;
    // precise when Pagefind keeps them as words), then as single characters (Pagefind
    // splits a bigram that is not a word in its dictionary into characters on the pages
    // but not in a query; every character of a page starts a word of its index, so this
    // finds every article that holds the term, among others the check then drops).
    var asked = terms.map(function (term) { return CJK.test(term) && term.length > 1 ? bigrams(term) : term; });
    var chars = terms.map(function (term) { return CJK.test(term) ? Array.from(term).join(" ") : term; });
    var queries = [asked.join(" ")];
    if (chars.join(" ") !== queries[0]) queries.push(chars.join(" "));
    return {
      terms: terms,
      pagefindQueries: queries,
      fold: fold,
      contains: function (content) {
        var plain = content.replace(/\u200b/g, "");
        var at = plain.indexOf("tidingsgrams");
        var text = fold(at >= 0 ? plain.slice(0, at) : plain);
        var handed = at >= 0 ? " " + plain.slice(at + 12).split(/\s+/).filter(Boolean).join(" ") + " " : " ";
        return checks.every(function (check) { return check(text, handed); });
      },
    };
  };
})();
(function () {
  "use strict";
  var BATCH = 40;
  var WANTED = 30;
  var root = document.getElementById("search");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var query = (new URLSearchParams(location.search).get("q") || "").trim();
  document.querySelectorAll('input[name="q"]').forEach(function (input) { input.value = query; });
  if (query) document.title = query + " · " + document.title;
  if (location.protocol === "file:") {
    status.textContent = root.dataset.offline;
    return;
  }
  if (!query) {
    status.textContent = root.dataset.hint;
    return;
  }
  status.textContent = root.dataset.loading;
  var matcher = window.tidingsMatcher(query);
  var contains = matcher.contains;
  function excerpt(content) {
    // A piece of the article around the first place that holds a term, the term marked;
    // never from the bigrams the page hands the index (after the word "tidingsgrams").
    var text = content.replace(/\u200b/g, "");
    var grams = text.indexOf("tidingsgrams");
    if (grams >= 0) text = text.slice(0, grams).trimEnd();
    var folded = matcher.fold(text);
    var aligned = folded.length === text.length;
    var source = aligned ? text : folded;
    var at = -1;
    var length = 0;
    matcher.terms.forEach(function (term) {
      var found = folded.indexOf(term);
      if (found >= 0 && (at < 0 || found < at)) { at = found; length = term.length; }
    });
    var holder = document.createElement("div");
    if (at < 0) {
      holder.textContent = source.slice(0, 160);
      return holder;
    }
    var start = Math.max(0, at - 50);
    holder.appendChild(document.createTextNode((start > 0 ? "…" : "") + source.slice(start, at)));
    var mark = document.createElement("mark");
    mark.textContent = source.slice(at, at + length);
    holder.appendChild(mark);
    holder.appendChild(document.createTextNode(source.slice(at + length, at + length + 110) + "…"));
    return holder;
  }
  function show(hit) {
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.className = "title";
    link.href = hit.url;
    link.textContent = (hit.meta && hit.meta.title) || hit.url;
    item.appendChild(link);
    item.appendChild(excerpt(hit.content || ""));
    list.appendChild(item);
  }
  var candidates = [];
  var checked = 0;
  var found = 0;
  var pending = [];
  var finder = null;
  var seen = new Set();
  async function refill() {
    // The next query's candidates, without those checked already.
    while (checked >= candidates.length && pending.length) {
      var search = await finder.search(pending.shift());
      candidates = candidates.concat(search.results.filter(function (r) { return !seen.has(r.id); }));
      search.results.forEach(function (r) { seen.add(r.id); });
    }
  }
  async function next() {
    more.hidden = true;
    var shownBefore = found;
    await refill();
    while (checked < candidates.length && found - shownBefore < WANTED) {
      var batch = candidates.slice(checked, checked + BATCH);
      checked += batch.length;
      var data = await Promise.all(batch.map(function (r) { return r.data(); }));
      data.forEach(function (hit) {
        if (contains(hit.content || "")) {
          found += 1;
          show(hit);
        }
      });
      await refill();
    }
    if (checked < candidates.length || pending.length) {
      status.textContent = root.dataset.partial.replace("{n}", String(found));
      more.hidden = false;
    } else {
      status.textContent = found ? root.dataset.count.replace("{n}", String(found)) : root.dataset.none;
    }
  }
  window.tidingsIndex()
    .then(async function (pagefind) {
      pending = matcher.pagefindQueries.slice();
      finder = pagefind;
      list.textContent = "";
      more.addEventListener("click", function () { next().catch(failed); });
      await next();
    })
    .catch(failed);
  function failed() {
    status.textContent = root.dataset.failed;
  }
})();
