// Signed-in pages: warn before the session ends (继续 restarts its idle limit), and keep a draft of every
// form marked data-draft in this browser until it is submitted successfully. See regions/session_expiry.py.
(() => {
  "use strict";
  const timer = document.getElementById("session-timer");
  if (!timer) return;
  const DRAFT_PREFIX = "zhenxing-draft:" + timer.dataset.user + ":";
  const PENDING = "zhenxing-draft-pending";
  const DRAFT_DAYS = 7;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // ---- drafts ----
  function skipped(el) {
    if (!el.name || el.name === "csrfmiddlewaretoken" || el.disabled) return true;
    if (["file", "submit", "button", "reset", "password"].includes(el.type)) return true;
    // Hidden fields (versions, ids) come from the server; only a formset's row count is kept.
    return el.type === "hidden" && !/-TOTAL_FORMS$/.test(el.name);
  }

  function snapshot(form) {
    const values = {};
    for (const el of form.elements) {
      if (skipped(el)) continue;
      if (el.type === "checkbox" || el.type === "radio") values[el.name + "=" + el.value] = el.checked;
      else if (el.type === "select-multiple") values[el.name] = [...el.selectedOptions].map((o) => o.value);
      else values[el.name] = el.value;
    }
    return values;
  }

  function apply(form, values) {
    const total = Object.keys(values).find((name) => /-TOTAL_FORMS$/.test(name));
    const add = form.dataset.draftAdd ? document.getElementById(form.dataset.draftAdd) : null;
    if (total && add && form.elements[total]) {
      for (let i = 0; i < 100 && parseInt(form.elements[total].value, 10) < parseInt(values[total], 10); i++) add.click();
    }
    for (const el of form.elements) {
      if (skipped(el) || /-TOTAL_FORMS$/.test(el.name)) continue;
      let changed = false;
      if (el.type === "checkbox" || el.type === "radio") {
        const key = el.name + "=" + el.value;
        if (key in values && el.checked !== values[key]) { el.checked = values[key]; changed = true; }
      } else if (el.type === "select-multiple") {
        if (Array.isArray(values[el.name])) {
          for (const option of el.options) option.selected = values[el.name].includes(option.value);
          changed = true;
        }
      } else if (el.name in values && el.value !== values[el.name]) {
        el.value = values[el.name];
        changed = true;
      }
      if (changed) {
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  }

  function same(a, b) {
    return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
  }

  function read(key) {
    try {
      const draft = JSON.parse(localStorage.getItem(key) || "null");
      if (draft && Date.now() - draft.savedAt < DRAFT_DAYS * 86400000) return draft;
    } catch (error) { /* a damaged draft is dropped below */ }
    localStorage.removeItem(key);
    return null;
  }

  // A form submitted on the previous page: if this page is another signed-in page (the record's page
  // after a successful save), the draft has done its job. The login page, this form again (refused,
  // or back after re-login) and the error pages (data-keep-drafts) keep it.
  try {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    if (pending && !document.querySelector("[data-keep-drafts]")) {
      if (pending.path !== location.pathname) localStorage.removeItem(pending.key);
      sessionStorage.removeItem(PENDING);
    }
  } catch (error) { sessionStorage.removeItem(PENDING); }

  // The record's version as the page shows it: a draft typed over an older version is not applied
  // silently, or saving it would overwrite what someone else saved in between.
  const versionOf = (form) => (form.elements.version ? form.elements.version.value : "");

  function showNotice(form, key, draft) {
    const notice = document.createElement("div");
    notice.className = "alert py-2 d-flex align-items-center gap-2 flex-wrap";
    notice.setAttribute("role", "status");
    const time = new Date(draft.savedAt).toLocaleString("zh-CN", { hour12: false });
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn btn-outline-secondary btn-sm ms-auto";
    discard.textContent = "放弃恢复";
    discard.addEventListener("click", () => { localStorage.removeItem(key); location.reload(); });
    const text = document.createElement("span");
    if ((draft.version || "") === versionOf(form)) {
      apply(form, draft.values);
      notice.classList.add("alert-info");
      notice.dataset.testid = "draft-restored";
      text.textContent = "已恢复未提交的内容（暂存于 " + time + "），请核对后保存。";
      notice.append(text, discard);
    } else {
      notice.classList.add("alert-warning");
      notice.dataset.testid = "draft-outdated";
      text.textContent = "本机暂存有 " + time + " 未提交的内容，但该记录此后已被他人修改，未自动恢复。";
      const restore = document.createElement("button");
      restore.type = "button";
      restore.className = "btn btn-warning btn-sm ms-auto";
      restore.textContent = "仍然恢复（覆盖他人的修改）";
      restore.addEventListener("click", () => {
        apply(form, draft.values);
        restore.remove();
        text.textContent = "已恢复未提交的内容（暂存于 " + time + "），请核对后保存。";
      });
      discard.classList.remove("ms-auto");
      notice.append(text, restore, discard);
    }
    form.parentNode.insertBefore(notice, form);
  }

  document.querySelectorAll("form[data-draft]").forEach((form) => {
    const key = DRAFT_PREFIX + location.pathname + (form.dataset.draft ? "#" + form.dataset.draft : "");
    const draft = read(key);
    if (draft && !same(draft.values, snapshot(form))) showNotice(form, key, draft);
    const save = () => {
      try {
        const draft = { savedAt: Date.now(), version: versionOf(form), values: snapshot(form) };
        localStorage.setItem(key, JSON.stringify(draft));
      } catch (error) { /* storage full or disabled: the form still works without a draft */ }
    };
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", () => {
      save();
      sessionStorage.setItem(PENDING, JSON.stringify({ key: key, path: location.pathname }));
    });
  });

  // Signing out on purpose removes this user's drafts from a shared computer.
  document.querySelectorAll('form[action$="/logout/"]').forEach((form) => {
    form.addEventListener("submit", () => {
      Object.keys(localStorage).filter((k) => k.startsWith(DRAFT_PREFIX)).forEach((k) => localStorage.removeItem(k));
    });
  });

  // ---- expiry warning ----
  // Two limits end a session (regions/session_expiry.py): the idle one, which 继续 restarts, and the absolute
  // one from the login, which nothing extends. The server says which comes first; the warning names it.
  if (timer.dataset.secondsLeft === "") return;
  const warning = document.getElementById("session-warning");
  const text = warning.querySelector('[data-role="text"]');
  const keepAlive = warning.querySelector('[data-role="continue"]');
  const login = warning.querySelector('[data-role="login"]');
  const warnMs = parseInt(timer.dataset.warnSeconds, 10) * 1000;
  let deadline = Date.now() + parseInt(timer.dataset.secondsLeft, 10) * 1000;
  let limit = timer.dataset.limit || "idle";
  let checkedAt = 0;

  function update(response) {
    return response.json().then((data) => {
      deadline = Date.now() + data.seconds_left * 1000;
      limit = data.limit || limit;
    });
  }

  // The warning is fixed to the bottom of the screen: the page gets room below its end, so that on a
  // phone the form's last fields and its 保存 button can still be scrolled clear of it.
  function makeRoom() {
    document.body.style.paddingBottom = warning.hidden ? "" : warning.offsetHeight + 32 + "px";
  }

  function render() {
    const left = deadline - Date.now();
    if (left > warnMs) { warning.hidden = true; makeRoom(); return; }
    // Another tab may have kept the session in use: ask before warning, at most every 30 seconds. Asking
    // is not activity, so it does not keep an unattended session alive.
    if (Date.now() - checkedAt > 30000) {
      checkedAt = Date.now();
      fetch(timer.dataset.keepAliveUrl, { credentials: "same-origin" }).then(update).then(render, () => {});
    }
    warning.hidden = false;
    const kept = "已填写的内容已暂存在本机浏览器。";
    if (left > 0) {
      const seconds = Math.ceil(left / 1000);
      const when = Math.floor(seconds / 60) + " 分 " + (seconds % 60) + " 秒";
      if (limit === "absolute") {
        text.textContent = "登录时长即将达到上限，登录将在 " + when + "后过期，届时需重新登录（继续操作也不会延长）。请及时保存；" + kept;
        keepAlive.hidden = true;
      } else {
        text.textContent = "较长时间没有操作，登录将在 " + when + "后过期。点“继续”保持登录；" + kept;
        keepAlive.hidden = false;
      }
      login.hidden = true;
    } else {
      text.textContent = (limit === "absolute" ? "登录时长已满，登录已过期。" : "较长时间没有操作，登录已过期。") +
        "已填写的内容暂存在本机浏览器，重新登录后回到本页即可恢复。";
      keepAlive.hidden = true;
      login.hidden = false;
      login.href = timer.dataset.loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search);
    }
    makeRoom();
  }

  keepAlive.addEventListener("click", () => {
    fetch(timer.dataset.keepAliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    }).then((response) => (response.ok ? update(response) : Promise.reject(response)))
      .then(render, () => { deadline = 0; render(); });
  });
  render();
  setInterval(render, 1000);
})();
