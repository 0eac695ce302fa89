// The login page's script: posts the form as JSON and keeps the token for the session.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = JSON.stringify(Object.fromEntries(new FormData(form)));
    const response = await fetch(form.action, { method: "POST", body, headers: { "Content-Type": "application/json" } });
    if (response.ok) sessionStorage.setItem("token", (await response.json()).token);
  });
});
