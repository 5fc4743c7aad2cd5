// The report's one script. It opens a team's section when a link points at it, and
// builds each team's findings table from the rows embedded in the page (gzip-compressed
// JSON, base64) with a search box and filters. All text goes in as text (textContent,
// title), never as markup.
(function () {
  "use strict";
  var FIRST_ROWS = 10;

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  var source = document.getElementById("findings-data");
  var holders = document.querySelectorAll(".team-findings[data-team]");
  if (!source || !holders.length) return;

  function say(text) {
    holders.forEach(function (holder) { holder.textContent = text; });
  }
  if (typeof DecompressionStream === "undefined") {
    say("This browser cannot unpack the findings table (it needs DecompressionStream); " +
        "the markdown and JSON reports list every flagged issue.");
    return;
  }
  var binary = atob(source.textContent.trim()), bytes = new Uint8Array(binary.length);
  for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  new Response(stream).text().then(function (text) { start(JSON.parse(text)); })
    .catch(function (error) { say("The findings table could not be read: " + error); });

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function start(data) {
    var controls = document.getElementById("findings-controls");
    var search = controls.querySelector("[name=search]");
    var selects = {};
    controls.querySelectorAll("select").forEach(function (s) { selects[s.name] = s; });
    var count = controls.querySelector(".count");
    var expanded = {};  // "team/group" -> shows every row

    data.teams.forEach(function (team) {
      team.rows.forEach(function (row) {
        row.haystack = [row.key, row.summary, row.findings.join(" ")].join(" ").toLowerCase();
      });
    });
    fill(selects.family, data.families);
    fill(selects.team, data.teams.map(function (t) { return t.name; }));
    if (selects.assignee) {
      var people = {};
      data.teams.forEach(function (t) {
        t.rows.forEach(function (r) { if (r.assignee) people[r.assignee] = true; });
      });
      fill(selects.assignee, Object.keys(people).sort());
    }

    function fill(select, values) {
      if (!select) return;
      values.forEach(function (v) { select.appendChild(el("option", {value: v}, v)); });
    }

    function matches(row, words, f) {
      if (f.family && row.families.indexOf(f.family) < 0) return false;
      if (f.severity && String(row.severity) !== f.severity) return false;
      if (f.assignee && row.assignee !== f.assignee) return false;
      for (var w = 0; w < words.length; w++) {
        if (row.haystack.indexOf(words[w]) < 0) return false;
      }
      return true;
    }

    function render() {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      var f = {};
      Object.keys(selects).forEach(function (k) { f[k] = selects[k].value; });
      var shown = 0, total = 0;
      data.teams.forEach(function (team, t) {
        var section = document.getElementById(holders[t].getAttribute("data-section"));
        var hide = Boolean(f.team) && f.team !== team.name;
        if (section) section.hidden = hide;
        var rows = hide ? [] : team.rows.filter(function (r) { return matches(r, words, f); });
        total += team.rows.length;
        shown += rows.length;
        draw(holders[t], team, t, rows, team.rows.length);
        if (section && (words.length || f.family || f.severity || f.assignee) && rows.length) {
          section.open = true;
        }
      });
      count.textContent = shown === total ? total + " flagged issues"
        : shown + " of " + total + " flagged issues match";
    }

    function draw(holder, team, t, rows, all) {
      var groups = [], byName = {};
      rows.forEach(function (row) {
        var name = row[data.group_by] || data.no_group;
        if (!byName[name]) { byName[name] = []; groups.push(name); }
        byName[name].push(row);
      });
      if (data.group_by === "step") {
        groups.sort(function (a, b) { return rank(a) - rank(b); });
      } else {
        groups.sort(function (a, b) {
          return (a === data.no_group) - (b === data.no_group) ||
            byName[b].length - byName[a].length || a.localeCompare(b);
        });
      }
      function rank(name) {
        var at = data.steps.indexOf(name);
        return at < 0 ? data.steps.length : at;
      }
      var table = el("table", {"class": "findings-table"});
      var head = el("tr");
      data.columns.forEach(function (c) { head.appendChild(el("th", {"class": c[0]}, c[1])); });
      table.appendChild(el("thead")).appendChild(head);
      groups.forEach(function (name) {
        var body = el("tbody", {"data-group": name});
        var members = byName[name], key = t + "/" + name;
        var open = expanded[key] || members.length <= FIRST_ROWS;
        var title = el("th", {colspan: data.columns.length});
        title.appendChild(el("span", null, name + " — " + members.length + " flagged"));
        if (!open) {
          var more = el("button", {type: "button"}, "show all " + members.length);
          more.addEventListener("click", function () { expanded[key] = true; render(); });
          title.appendChild(more);
        }
        body.appendChild(el("tr", {"class": "group"})).appendChild(title);
        (open ? members : members.slice(0, FIRST_ROWS)).forEach(function (row) {
          body.appendChild(line(row));
        });
        table.appendChild(body);
      });
      holder.textContent = "";
      holder.appendChild(el("p", {"class": "muted"}, rows.length === all
        ? all + " flagged, most severe first in each " + data.group_by
        : rows.length + " of " + all + " flagged match"));
      if (groups.length) holder.appendChild(table);
    }

    function line(row) {
      var tr = el("tr", {"class": "sev" + row.severity});
      var issue = el("td", {"class": "key"});
      issue.appendChild(el("a", {"class": "issue", href: row.url}, row.key));
      tr.appendChild(issue);
      var health = el("td", {"class": "health"});
      health.appendChild(el("span", {"class": "tag " + row.health}, row.health));
      tr.appendChild(health);
      data.columns.slice(2).forEach(function (c) {
        var value = row[c[0]];
        if (c[0] === "age_days") value = value === null ? "—" : value + " d";
        if (Array.isArray(value)) value = value.join(c[0] === "findings" ? " · " : ", ");
        var cell = el("td", {"class": c[0], title: value || ""}, value || "—");
        tr.appendChild(cell);
      });
      tr.addEventListener("click", function (event) {
        if (event.target.tagName !== "A") tr.classList.toggle("open");
      });
      return tr;
    }

    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(render, 120);
    });
    Object.keys(selects).forEach(function (k) { selects[k].addEventListener("change", render); });
    controls.hidden = false;
    render();
    if (window.performance && performance.mark) performance.mark("findings-tables");
  }
})();
