// Alerts page: list, create and delete the rules of the API key typed in; show events.
(function () {
  "use strict";
  const API = "/v1/alert-rules";
  const keyInput = document.getElementById("api-key");
  const status = document.getElementById("alert-status");
  const rulesBody = document.querySelector("#rules-table tbody");
  const eventsBody = document.querySelector("#events-table tbody");
  const form = document.getElementById("rule-form");

  keyInput.value = sessionStorage.getItem("costcurve-api-key") || "";

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  async function call(method, path, body) {
    const headers = { "X-API-Key": keyInput.value.trim() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(API + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return null;
    const data = await response.json();
    if (!response.ok) throw new Error(data.detail || response.statusText);
    return data;
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    row.appendChild(td);
    return td;
  }

  function describe(target) {
    if (target.type === "tier") return "tier " + target.tier;
    if (target.type === "model") return target.model + (target.provider ? " @ " + target.provider : "");
    if (target.type === "gpu") return target.gpu + " " + target.pricing + (target.provider ? " @ " + target.provider : "");
    return target.model + " on " + target.gpu;
  }

  function button(label, handler) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", handler);
    return b;
  }

  function emptyRow(body, columns, text) {
    body.replaceChildren();
    const tr = body.insertRow();
    const td = cell(tr, text);
    td.colSpan = columns;
    td.className = "empty";
  }

  async function load() {
    if (!keyInput.value.trim()) return;
    try {
      const data = await call("GET", "");
      rulesBody.replaceChildren();
      for (const rule of data.items) {
        const tr = rulesBody.insertRow();
        tr.dataset.ruleId = rule.id;
        cell(tr, rule.id); cell(tr, rule.name); cell(tr, describe(rule.target));
        cell(tr, rule.metric); cell(tr, rule.direction + " " + rule.threshold);
        cell(tr, rule.current_value); cell(tr, rule.state); cell(tr, rule.channel);
        cell(tr, rule.events);
        const actions = cell(tr, "");
        actions.append(
          button("events", () => events(rule)),
          button("delete", () => remove(rule)),
        );
        actions.lastChild.setAttribute("aria-label", "delete rule " + rule.name);
      }
      if (!data.items.length) emptyRow(rulesBody, 10, "This key has no rules yet.");
      say(data.items.length + " rule(s).");
    } catch (err) {
      say(err.message, true);
    }
  }

  async function events(rule) {
    try {
      const data = await call("GET", "/" + rule.id + "/events");
      document.getElementById("events-for").textContent = "of " + rule.name;
      eventsBody.replaceChildren();
      for (const e of data.items) {
        const tr = eventsBody.insertRow();
        cell(tr, e.crossed_at); cell(tr, e.value); cell(tr, e.previous_value);
        cell(tr, e.threshold);
        cell(tr, e.delivery ? e.delivery.status + " (" + e.delivery.attempts + " attempts)" : null);
      }
      if (!data.items.length) emptyRow(eventsBody, 5, "No threshold crossing yet.");
    } catch (err) {
      say(err.message, true);
    }
  }

  async function remove(rule) {
    try {
      await call("DELETE", "/" + rule.id);
      say("Deleted rule " + rule.name + ".");
      await load();
    } catch (err) {
      say(err.message, true);
    }
  }

  function showTargetFields() {
    const type = document.getElementById("target-type").value;
    for (const label of form.querySelectorAll("label[data-for]")) {
      label.hidden = !label.dataset.for.split(" ").includes(type);
    }
    document.getElementById("metric").value = type === "gpu" ? "usd_per_gpu_hour" : "blended";
  }

  function ruleBody() {
    const f = new FormData(form);
    const type = f.get("target_type");
    const target = { type };
    if (type === "tier") target.tier = f.get("tier");
    if (type === "model") target.model = f.get("model");
    if (type === "gpu") { target.gpu = f.get("gpu"); target.pricing = f.get("pricing"); }
    if ((type === "model" || type === "gpu") && f.get("provider")) target.provider = f.get("provider");
    return {
      name: f.get("name"), target, metric: f.get("metric"), direction: f.get("direction"),
      threshold: f.get("threshold"), channel: f.get("channel"),
    };
  }

  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("costcurve-api-key", keyInput.value.trim());
    load();
  });
  document.getElementById("forget-key").addEventListener("click", () => {
    sessionStorage.removeItem("costcurve-api-key");
    keyInput.value = "";
    emptyRow(rulesBody, 10, "Enter an API key to see its rules.");
  });
  document.getElementById("target-type").addEventListener("change", showTargetFields);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const rule = await call("POST", "", ruleBody());
      say("Created rule " + rule.name + " (id " + rule.id + ").");
      form.reset();
      showTargetFields();
      await load();
    } catch (err) {
      say(err.message, true);
    }
  });
  showTargetFields();
  load();
})();
