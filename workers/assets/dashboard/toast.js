// Short confirmations ("Wave 3 approved.") in a polite live region.

export function toast(message) {
  const region = document.getElementById('toasts');
  const el = document.createElement('div');
  el.className = 'toast';
  el.textContent = message;
  region.appendChild(el);
  setTimeout(() => el.remove(), 5000);
}
