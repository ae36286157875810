// Minimal chat client for the emulator's user JSON API (see bot/emulator/README.md).
const chat = document.getElementById("chat");
const userInput = document.getElementById("user");
let version = -1;
let generation = 0;

const userId = () => Number(userInput.value);

function render(data) {
  chat.replaceChildren();
  for (const m of data.messages) {
    const div = document.createElement("div");
    div.className = "msg " + m.from;
    div.textContent = m.text;
    if (m.document) {
      const d = document.createElement("div");
      d.className = "doc";
      const a = document.createElement("a");
      a.href = `/emulator/api/file?user_id=${userId()}&message_id=${m.id}`;
      a.textContent = `📄 ${m.document.name} (${Math.round(m.document.size / 1024)} Ko)`;
      d.append(a);
      div.append(d);
    }
    if (m.buttons.length) {
      const kb = document.createElement("div");
      kb.className = "kb";
      for (const row of m.buttons) {
        const r = document.createElement("div");
        r.className = "row";
        for (const b of row) {
          const btn = document.createElement("button");
          btn.textContent = b.text;
          btn.onclick = () => post("/emulator/api/press", { user_id: userId(), message_id: m.id, data: b.data });
          r.append(btn);
        }
        kb.append(r);
      }
      div.append(kb);
    }
    chat.append(div);
  }
  chat.scrollTop = chat.scrollHeight;
}

async function post(url, body) {
  await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

async function poll() {
  const mine = ++generation;
  version = -1;
  while (mine === generation) {
    try {
      const res = await fetch(`/emulator/api/chat?user_id=${userId()}&since=${version}&timeout=25`);
      const data = await res.json();
      if (mine !== generation) return;
      if (data.version !== version) { version = data.version; render(data); }
    } catch (e) {
      await new Promise((ok) => setTimeout(ok, 1000));
    }
  }
}

document.getElementById("composer").onsubmit = async (event) => {
  event.preventDefault();
  const text = document.getElementById("text");
  const file = document.getElementById("file");
  if (file.files.length) {
    const form = new FormData();
    form.append("user_id", userId());
    form.append("file", file.files[0]);
    if (document.getElementById("photo").checked) form.append("as_photo", "1");
    await fetch("/emulator/api/upload", { method: "POST", body: form });
    file.value = "";
  }
  if (text.value.trim()) {
    await post("/emulator/api/send", { user_id: userId(), text: text.value });
    text.value = "";
  }
};
userInput.onchange = poll;
poll();
