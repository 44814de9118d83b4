// The search page of a published tidings mirror: runs the query of ?q= against the
// Pagefind index in pagefind/ and lists the articles found. Opened from file://, where
// browsers do not load the index, it loads nothing and says so.
(function () {
  "use strict";
  var root = document.getElementById("search");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var query = (new URLSearchParams(location.search).get("q") || "").trim();
  document.querySelectorAll('input[name="q"]').forEach(function (input) { input.value = query; });
  document.title = (query ? query + " · " : "") + document.title;
  if (location.protocol === "file:") {
    status.textContent = root.dataset.offline;
    return;
  }
  if (!query) {
    status.textContent = root.dataset.hint;
    return;
  }
  status.textContent = root.dataset.loading;
  var table = window.TIDINGS_FOLD || {};
  function fold(text) {
    var out = "";
    for (var ch of text.normalize("NFKC").toLowerCase()) out += table[ch] || ch;
    return out;
  }
  function excerpt(html) {
    // Pagefind marks the words found with <mark>; keep those and the text, nothing else.
    var holder = document.createElement("div");
    var parsed = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    parsed.body.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        holder.appendChild(mark);
      } else {
        holder.appendChild(document.createTextNode(node.textContent));
      }
    });
    return holder;
  }
  var base = new URL(".", location.href);
  import(new URL("pagefind/pagefind.js", base).href)
    .then(async function (pagefind) {
      await pagefind.options({ baseUrl: base.pathname });
      var search = await pagefind.search(fold(query));
      var found = await Promise.all(search.results.slice(0, 100).map(function (r) { return r.data(); }));
      list.textContent = "";
      found.forEach(function (hit) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.className = "title";
        link.href = hit.url;
        link.textContent = (hit.meta && hit.meta.title) || hit.url;
        item.appendChild(link);
        var text = excerpt(hit.excerpt || "");
        item.appendChild(text);
        list.appendChild(item);
      });
      status.textContent = found.length ? root.dataset.count.replace("{n}", String(search.results.length)) : root.dataset.none;
    })
    .catch(function () {
      status.textContent = root.dataset.failed;
    });
})();
