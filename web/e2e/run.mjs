// End-to-end test: the real sigma-api binary (built with the `ui` feature) on a
// fresh SQLite database, driven by Debian's Chromium through playwright-core.
// It walks what an operator does, checks what they would see, and takes the
// screenshots in docs/screenshots/: signing in as the first admin (made by the
// server from SIGMA_ADMIN_EMAIL/PASSWORD), VPS and providers, the audit log,
// a lost connection, claiming an agent registered over HTTP and watching its
// status and metrics change live as it sends heartbeats, TOTP set-up, and
// signing in and out as an operator with TOTP.
//
//   SIGMA_API_BIN   the server binary (default: $CARGO_TARGET_DIR/debug/sigma-api)
//   CHROMIUM        the browser (default: /usr/bin/chromium)
//   SCREENSHOTS_DIR where the screenshots go (default: $CARGO_TARGET_DIR/screenshots;
//                   `make screenshots` refreshes the committed ones in docs/screenshots)
//   SCREENSHOTS=0   skip the screenshots
import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const bin = process.env.SIGMA_API_BIN ?? join(target, 'debug', 'sigma-api');
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const shots = process.env.SCREENSHOTS_DIR ?? join(target, 'screenshots');
const takeShots = process.env.SCREENSHOTS !== '0';

if (!existsSync(bin)) throw new Error(`no server binary at ${bin}: make web && cargo build -p sigma-api --features ui`);
if (!existsSync(browserPath)) throw new Error(`no browser at ${browserPath}: apt-get install chromium`);

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), 'sigma-e2e-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
let server;
// The server warns about SIGMA_* variables it does not know: keep ours away from it.
const serverEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'SIGMA_API_BIN'));
// The first admin, made by the server at its first start. A fixed signing
// secret keeps login tokens valid across the restart below.
const admin = { email: 'admin@example.com', password: 'e2e admin password' };
/** The admin's login token, for the API calls the test makes itself. */
let token = null;

function startServer() {
  server = spawn(bin, ['serve', '--dev', '--listen', `127.0.0.1:${port}`, '--database-url', `sqlite://${dir}/sigma.db`], {
    env: {
      ...serverEnv,
      SIGMA_LOG: process.env.SIGMA_LOG ?? 'warn',
      SIGMA_ADMIN_EMAIL: admin.email,
      SIGMA_ADMIN_PASSWORD: admin.password,
      SIGMA_JWT_SECRET: 'e2e-signing-secret-0123456789abcdef',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return waitFor(async () => (await fetch(`${base}/healthz`)).ok, 'the server to answer /healthz', 30_000);
}

async function stopServer() {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await exited;
}

async function waitFor(check, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function api(method, path, body, headers = {}) {
  const r = await fetch(base + path, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A screenshot of the whole page, taken with the window as tall as the
 *  page so the sticky sidebar reaches the bottom, as it does on screen. */
async function shoot(page, name) {
  const viewport = page.viewportSize();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(shots, name) });
  await page.setViewportSize(viewport);
}

/** Waits until no part of the page is loading. (Not `networkidle`: the
 *  page keeps the live event stream open.) */
async function settled(page) {
  await page.waitForFunction(() => document.querySelector('main, form') && !document.querySelector('[aria-busy="true"]'));
  await page.waitForTimeout(300);
}

function check(ok, message) {
  if (!ok) throw new Error(`check failed: ${message}`);
  console.log(`  ✓ ${message}`);
}

/** The TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) of a base32 secret at a time step. */
function totp(secret, step = Math.floor(Date.now() / 30_000)) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** A UUIDv7 (time-ordered), as agents make their ids. */
function uuidv7() {
  const b = randomBytes(16);
  b.writeUIntBE(Date.now(), 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function login(email, password, totp_code) {
  const r = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, totp_code }),
  });
  if (!r.ok) throw new Error(`login of ${email}: ${r.status} ${await r.text()}`);
  return (await r.json()).access_token;
}

const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

let browser;
let failed = false;
try {
  await startServer();
  const index = await (await fetch(`${base}/`)).text();
  if (!index.includes('id="root"')) throw new Error(`${bin} was built without the web UI: build it with --features ui`);

  browser = await chromium.launch({
    executablePath: browserPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-dev-shm-usage',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US', colorScheme: 'light' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  token = await login(admin.email, admin.password);
  if (takeShots) mkdirSync(shots, { recursive: true });

  console.log('sign in with e-mail and password');
  await page.goto(base, { waitUntil: 'load' });
  await page.getByLabel('E-mail address', { exact: true }).waitFor();
  check(true, 'a server with users asks to sign in');
  if (takeShots) await shoot(page, 'sign-in-light.png');
  await page.getByLabel('E-mail address', { exact: true }).fill(admin.email);
  await page.getByLabel('Password', { exact: true }).fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('sign-in-error').getByText('Wrong e-mail address, password or code.').waitFor();
  check(true, 'a wrong password is refused with a message');
  await page.getByLabel('Password', { exact: true }).fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  console.log('dashboard of an empty fleet');
  await page.getByText('Your fleet is empty').waitFor();
  check(true, 'the empty dashboard invites to add a provider');

  console.log('create a provider');
  await page.getByRole('link', { name: 'Providers' }).first().click();
  await page.getByTestId('add-provider').click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('DMIT');
  await dialog.getByLabel('Country', { exact: true }).fill('US');
  await dialog.getByLabel('Rating', { exact: true }).selectOption('4');
  await dialog.getByLabel('Website', { exact: true }).fill('https://www.dmit.io');
  await page.getByTestId('save-provider').click();
  await dialog.waitFor({ state: 'detached' });
  const providerRow = page.getByTestId('provider-row').filter({ hasText: 'DMIT' });
  await providerRow.waitFor();
  check((await providerRow.getByTestId('provider-counts').innerText()).includes('0'), 'the provider is listed with its VPS counts');

  console.log('create a VPS with two addresses');
  await page.goto(`${base}/vps/new`, { waitUntil: 'load' });
  await page.getByLabel('Host name', { exact: true }).fill('tokyo-1');
  await page.getByLabel('Provider', { exact: true }).selectOption({ label: 'DMIT' });
  await page.getByLabel('Country', { exact: true }).fill('JP');
  await page.getByLabel('Address 1', { exact: true }).fill('103.1.2.3');
  await page.getByLabel('Network', { exact: true }).nth(0).selectOption('china-telecom');
  await page.getByTestId('add-ip').click();
  await page.getByLabel('Address 2', { exact: true }).fill('103.1.2.4');
  await page.getByLabel('Network', { exact: true }).nth(1).selectOption('china-unicom');
  await page.getByLabel('Tags', { exact: true }).fill('iplc');
  await page.keyboard.press('Enter');
  await page.getByLabel('Price', { exact: true }).fill('4.99');
  await page.getByLabel('Expires on', { exact: true }).fill(day(5));
  await page.getByTestId('save-vps').click();
  await page.waitForURL(/\/vps\/[0-9a-f-]{36}$/);
  const ips = await page.getByTestId('detail-ips').innerText();
  check(ips.includes('103.1.2.3') && ips.includes('103.1.2.4'), 'the detail page shows both addresses');
  check(ips.includes('China Telecom') && ips.includes('China Unicom'), 'with their network labels');
  await page.getByTestId('ip-history').getByText('103.1.2.4').waitFor();
  check(true, 'the address history lists the new addresses');

  console.log('server-side validation errors appear on their fields');
  await page.goto(`${base}/vps/new`, { waitUntil: 'load' });
  await page.getByLabel('Host name', { exact: true }).fill('osaka-1');
  await page.getByLabel('Provider', { exact: true }).selectOption({ label: 'DMIT' });
  await page.getByLabel('Country', { exact: true }).fill('XX');
  await page.getByLabel('Address 1', { exact: true }).fill('103.1.2.4');
  await page.getByTestId('save-vps').click();
  const country = page.getByLabel('Country', { exact: true });
  await page.waitForFunction(() => document.querySelector('[aria-invalid="true"]') !== null);
  check((await country.getAttribute('aria-invalid')) === 'true', 'the country field is marked invalid by the server');
  const countryError = await page.locator(`#${await country.getAttribute('aria-describedby')}`).innerText();
  check(/country|ISO/i.test(countryError), `with the server's reason: "${countryError}"`);
  await country.fill('JP');
  await page.getByTestId('save-vps').click();
  const ip1 = page.getByLabel('Address 1', { exact: true });
  await page.waitForFunction(() => document.querySelector('input[aria-invalid="true"]')?.closest('[data-testid="ip-row"]') != null);
  const ipError = await page.locator(`#${await ip1.getAttribute('aria-describedby')}`).innerText();
  check(ipError.includes('tokyo-1'), `the address held by another VPS is refused on its field: "${ipError}"`);
  if (takeShots) {
    mkdirSync(shots, { recursive: true });
    await shoot(page, 'vps-form.png');
  }
  await ip1.fill('103.1.9.9');
  await page.getByTestId('save-vps').click();
  await page.waitForURL(/\/vps\/[0-9a-f-]{36}$/);
  check(true, 'once corrected, the VPS is created');

  console.log('filter the list; the URL keeps the view');
  await page.goto(`${base}/vps`, { waitUntil: 'load' });
  await waitFor(async () => (await page.getByTestId('vps-row').count()) === 2, 'the list');
  check((await page.getByTestId('vps-row').count()) === 2, 'two VPS are listed');
  await page.getByLabel('Search', { exact: true }).fill('tokyo');
  await page.waitForURL(/[?&]q=tokyo/);
  await waitFor(async () => (await page.getByTestId('vps-row').count()) === 1, 'the list to narrow');
  check(true, 'searching narrows the list and writes q= into the URL');
  await page.getByTestId('status-filter-provisioning').click();
  await page.waitForURL(/status=provisioning/);
  check(page.url().includes('q=tokyo'), 'filters combine in the URL');
  await page.goto(`${base}/vps?ip=103.1.9.0%2F24`, { waitUntil: 'load' });
  await waitFor(async () => (await page.getByTestId('vps-row').count()) === 1, 'the network filter');
  check((await page.getByTestId('vps-row').innerText()).includes('osaka-1'), 'a bookmarked URL with an address filter shows its view');
  check((await page.getByLabel('Address or network', { exact: true }).inputValue()) === '103.1.9.0/24', 'and fills in the filter');

  console.log('retire a VPS from the list');
  await page.goto(`${base}/vps`, { waitUntil: 'load' });
  const tokyo = page.getByTestId('vps-row').filter({ hasText: 'tokyo-1' });
  await tokyo.getByRole('checkbox').check();
  await page.getByTestId('bulk-retire').click();
  await page.getByRole('dialog').getByRole('button', { name: 'Retire' }).click();
  await tokyo.getByText('Retired').waitFor();
  check(true, 'the retired VPS shows as Retired');
  const retired = (await api('GET', '/api/vps?status=retired')).data.map((v) => v.hostname);
  check(retired.includes('tokyo-1'), 'and the server has it retired');

  console.log('the audit log shows who changed what');
  await page.getByRole('link', { name: 'Audit log' }).first().click();
  await page.getByLabel('Action', { exact: true }).selectOption('retire');
  await page.waitForURL(/action=retire/);
  await waitFor(async () => (await page.getByTestId('audit-entry').count()) === 1, 'the audit log to narrow');
  const retiredEntry = page.getByTestId('audit-entry');
  check((await retiredEntry.innerText()).includes('tokyo-1'), 'filtering by action leaves the one retirement, of tokyo-1');
  await retiredEntry.getByRole('button', { name: 'Show what changed' }).click();
  const diff = await retiredEntry.getByTestId('audit-diff').innerText();
  check(diff.includes('status') && diff.includes('retired'), 'its diff shows the status becoming retired');
  await retiredEntry.getByRole('link', { name: 'tokyo-1' }).click();
  await page.getByTestId('vps-changes').getByTestId('audit-entry').nth(1).waitFor();
  check((await page.getByTestId('vps-changes').getByTestId('audit-entry').count()) === 2, 'the VPS page lists its creation and retirement');

  console.log('switch the language');
  await page.getByTestId('lang-toggle').click();
  await page.getByRole('link', { name: '仪表盘' }).first().waitFor();
  check(true, 'the navigation is in Chinese');
  await page.getByTestId('lang-toggle').click();
  await page.getByRole('link', { name: 'Dashboard' }).first().waitFor();

  console.log('a lost connection is shown, and clears when the server is back');
  await stopServer();
  await page.getByRole('link', { name: 'Providers' }).first().click();
  await page.getByTestId('connection-banner').waitFor({ timeout: 20_000 });
  check(true, 'the banner says the server cannot be reached');
  await startServer();
  await page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 30_000 });
  check(true, 'the banner goes once the server answers again');

  console.log('claim an agent and watch its status change live');
  const claimToken = `claim-${randomUUID()}`;
  const agentId = uuidv7();
  await api('POST', '/api/agent/register', {
    agent_id: agentId,
    claim_token_hash: createHash('sha256').update(claimToken).digest('hex'),
    hostname: 'osaka-1',
    agent_version: '0.1.0',
    os: 'Debian GNU/Linux 13',
    arch: 'x86_64',
    ip_addresses: ['103.1.9.9'],
  });
  await page.getByRole('link', { name: 'Agents' }).first().click();
  const pendingAgent = page.getByTestId('pending-agents').getByTestId('agent-row').filter({ hasText: 'osaka-1' });
  await pendingAgent.waitFor();
  check(true, 'the registered agent waits to be claimed');
  await pendingAgent.getByTestId('claim-agent').click();
  const claimDialog = page.getByRole('dialog');
  await claimDialog.getByLabel('Claim token', { exact: true }).fill('not the token');
  await page.getByTestId('claim-submit').click();
  await claimDialog.getByText('The claim token does not match this agent.').waitFor();
  check(true, 'a wrong claim token is refused');
  await claimDialog.getByLabel('Claim token', { exact: true }).fill(claimToken);
  await claimDialog.getByLabel('VPS', { exact: true }).selectOption({ label: 'osaka-1' });
  await page.getByTestId('claim-submit').click();
  await claimDialog.waitFor({ state: 'detached' });
  await page.getByTestId('claimed-agents').getByTestId('agent-row').filter({ hasText: 'osaka-1' }).waitFor();
  check(true, 'once claimed it is listed with the claimed agents');
  const claimStatus = await api('GET', `/api/agent/${agentId}/claim-status`, undefined, { 'x-claim-token': claimToken });
  const agentKey = claimStatus.api_key;
  check(typeof agentKey === 'string', 'the agent fetches its key');

  await page.getByRole('link', { name: 'VPS', exact: true }).first().click();
  const osakaDot = page.getByTestId('vps-row').filter({ hasText: 'osaka-1' }).locator('[data-agent-status]');
  // The list may first show its cached answer from before the claim.
  await waitFor(async () => (await osakaDot.getAttribute('data-agent-status')) === 'pending', 'the claimed agent in the list');
  check((await osakaDot.getAttribute('data-agent-status')) === 'pending', 'the VPS list shows the agent as not yet reporting');
  await page.evaluate(() => {
    window.sigmaNoReload = true;
  });
  const beat = (cpu) => ({
    agent_version: '0.1.0', hostname: 'osaka-1', os: 'Debian', kernel: '6.1.0', arch: 'x86_64', uptime_secs: 1234,
    cpu_percent: cpu, cpu_cores: 2, load: { one: 0.5, five: 0.25, fifteen: 0.1 },
    memory: { total_bytes: 2_000_000_000, used_bytes: 800_000_000 }, swap: { total_bytes: 0, used_bytes: 0 },
    filesystems: [{ mount: '/', fstype: 'ext4', total_bytes: 42_949_672_960, used_bytes: 12_884_901_888 }],
    network: { rx_bytes: 10, tx_bytes: 20 },
    ports: [
      { protocol: 'tcp', address: '0.0.0.0', port: 22, process: 'sshd', pid: 1 },
      { protocol: 'udp', address: '0.0.0.0', port: 51820 },
    ],
    public_ips: ['103.1.9.9'], interval_secs: 30,
  });
  await api('POST', '/api/agent/heartbeat', beat(12.5), { 'x-agent-key': agentKey });
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="vps-row"]')].find((r) => r.textContent.includes('osaka-1'))?.querySelector('[data-agent-status="online"]'),
  );
  check(await page.evaluate(() => window.sigmaNoReload === true), 'the first heartbeat turns the dot green, without a reload');
  await page.getByTestId('vps-row').filter({ hasText: 'osaka-1' }).getByRole('link', { name: 'osaka-1' }).first().click();
  const panel = page.getByTestId('agent-panel');
  await panel.getByText('Agent online').waitFor();
  await api('POST', '/api/agent/heartbeat', beat(77.25), { 'x-agent-key': agentKey });
  await panel.getByText('77.25').waitFor();
  check(await page.evaluate(() => window.sigmaNoReload === true), 'the VPS page shows the metrics of each new heartbeat live');
  check((await panel.getByTestId('agent-ports').innerText()).includes('tcp/22 sshd'), 'with the listening ports');
  if (takeShots) await shoot(page, 'vps-agent-light.png');

  console.log('settings: profile, and TOTP set-up with a QR code');
  await page.getByRole('link', { name: 'Settings' }).first().click();
  check((await page.getByTestId('profile-name').innerText()) === admin.email, 'the profile names the signed-in admin');
  await page.getByTestId('totp-setup').click();
  await page.getByTestId('totp-qr').waitFor();
  check(Number(await page.getByTestId('totp-qr').getAttribute('data-modules')) >= 21, 'setting TOTP up shows a QR code');
  if (takeShots) await shoot(page, 'settings-light.png');
  await page.getByRole('button', { name: 'Cancel' }).click();

  console.log('sign in as a user with TOTP');
  await api('POST', '/api/users', { email: 'ops@example.com', password: 'ops user password', role: 'operator' });
  const adminToken = token;
  token = await login('ops@example.com', 'ops user password');
  const { secret } = await api('POST', '/api/auth/totp/setup');
  const step = Math.floor(Date.now() / 30_000);
  await api('POST', '/api/auth/totp/enable', { code: totp(secret, step) });
  token = adminToken;
  const ops = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const opsPage = await ops.newPage();
  opsPage.on('pageerror', (e) => errors.push(e.message));
  await opsPage.goto(base, { waitUntil: 'load' });
  await opsPage.getByLabel('E-mail address', { exact: true }).fill('ops@example.com');
  await opsPage.getByLabel('Password', { exact: true }).fill('ops user password');
  await opsPage.getByRole('button', { name: 'Sign in' }).click();
  const code = opsPage.getByLabel('Authentication code', { exact: true });
  await code.waitFor();
  check(true, 'the server asks for the TOTP code and the page shows its step');
  // The code of the enabling step is spent: the next one is within the allowed skew.
  await code.fill(totp(secret, step + 1));
  await opsPage.getByRole('button', { name: 'Sign in' }).click();
  await opsPage.getByTestId('signed-in-as').getByText('ops@example.com').waitFor();
  check(true, 'with the code the operator is signed in');
  check(!(await opsPage.getByRole('link', { name: 'Users' }).count()), 'an operator has no Users or API keys entry');
  check((await opsPage.getByRole('link', { name: 'Agents' }).count()) > 0, 'but has the Agents page');
  const opsToken = await opsPage.evaluate(() => JSON.parse(localStorage.getItem('sigma.credential')).token);
  check((await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${opsToken}` } })).status === 200, 'the page holds a login token');
  await opsPage.getByTestId('sign-out').click();
  await opsPage.getByLabel('E-mail address', { exact: true }).waitFor();
  check(true, 'signing out brings the sign-in page back');
  const refused = await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${opsToken}` } });
  check(refused.status === 401, 'and the server no longer accepts that token');
  await ops.close();

  check(errors.length === 0, `no script errors in the page${errors.length ? `: ${errors.join('; ')}` : ''}`);

  if (takeShots) {
    console.log('screenshots');
    await seedFleet();
    const detailId = (await api('GET', '/api/vps?q=hk-relay-1')).data[0].id;
    const pages = [
      ['dashboard', '/'],
      ['vps-list', '/vps?sort=expire_date'],
      ['vps-detail', `/vps/${detailId}`],
      ['providers', '/providers'],
      ['audit', '/audit'],
      ['agents', '/agents'],
      ['users', '/users'],
    ];
    for (const theme of ['light', 'dark']) {
      await page.evaluate((t) => localStorage.setItem('sigma.theme', t), theme);
      for (const [name, path] of pages) {
        await page.goto(base + path, { waitUntil: 'load' });
        await settled(page);
        if (name === 'dashboard') await page.getByTestId('dashboard-charts').locator('svg').first().waitFor();
        await page.waitForTimeout(400);
        await shoot(page, `${name}-${theme}.png`);
      }
    }
    await page.evaluate(() => {
      localStorage.setItem('sigma.theme', 'light');
      localStorage.setItem('sigma.lang', 'zh');
    });
    await page.goto(base, { waitUntil: 'load' });
    await page.getByTestId('dashboard-charts').locator('svg').first().waitFor();
    await page.waitForTimeout(400);
    await shoot(page, 'dashboard-zh.png');

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'en-US' });
    await phone.addInitScript((t) => localStorage.setItem('sigma.credential', JSON.stringify({ kind: 'session', token: t })), token);
    const p = await phone.newPage();
    await p.goto(`${base}/vps?sort=expire_date`, { waitUntil: 'load' });
    await p.getByTestId('vps-cards').waitFor();
    check(await p.getByTestId('vps-table').isHidden(), 'on a phone the list is cards, not a table');
    await p.screenshot({ path: join(shots, 'vps-list-phone.png'), fullPage: false });
    await phone.close();
    console.log(`  screenshots in ${shots}`);
  }
  console.log('e2e: all checks passed');
} catch (e) {
  failed = true;
  console.error(`e2e failed: ${e instanceof Error ? e.stack : e}`);
} finally {
  await browser?.close().catch(() => {});
  await stopServer();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

/** A small but realistic fleet, created through the API, for the screenshots. */
async function seedFleet() {
  const providers = {};
  for (const [name, country, rating] of [
    ['Vultr', 'US', 4],
    ['Aliyun', 'CN', 3],
    ['Hetzner', 'DE', 5],
  ]) {
    providers[name] = (await api('POST', '/api/providers', { name, country, rating, api_supported: true })).id;
  }
  const dmit = (await api('GET', '/api/providers?q=DMIT')).data[0].id;
  const fleet = [
    ['hk-relay-1', dmit, 'HK', 'vpn-relay', 'active', [['45.8.1.10', 'china-telecom'], ['45.8.1.11', 'china-mobile']], '12.00', 'USD', 'monthly', 3, ['cn2', 'iplc']],
    ['sg-exit-1', providers.Vultr, 'SG', 'vpn-exit', 'active', [['139.180.1.5', 'overseas']], '6.00', 'USD', 'monthly', 21, ['premium']],
    ['sg-exit-2', providers.Vultr, 'SG', 'vpn-exit', 'active', [['139.180.1.6', 'overseas']], '6.00', 'USD', 'monthly', 44, []],
    ['la-exit-1', providers.Vultr, 'US', 'vpn-exit', 'active', [['45.77.1.2', 'overseas']], '60.00', 'USD', 'annual', 200, ['annual']],
    ['sh-entry-1', providers.Aliyun, 'CN', 'vpn-entry', 'active', [['47.100.1.1', 'china-telecom'], ['47.100.1.2', 'china-unicom']], '99.00', 'CNY', 'monthly', 12, ['bgp']],
    ['bj-entry-1', providers.Aliyun, 'CN', 'vpn-entry', 'suspended', [['39.96.1.1', 'china-unicom']], '288.00', 'CNY', 'quarterly', -2, []],
    ['fsn-monitor', providers.Hetzner, 'DE', 'monitor', 'active', [['116.203.1.1', 'overseas']], '4.51', 'EUR', 'monthly', 60, ['monitoring']],
    ['nbg-mgmt', providers.Hetzner, 'DE', 'management', 'retiring', [['168.119.1.1', 'internal']], '4.51', 'EUR', 'monthly', 9, []],
    ['fra-exit-1', providers.Hetzner, 'DE', 'vpn-exit', 'provisioning', [['49.12.1.1', 'anycast']], '3.79', 'EUR', 'monthly', 30, []],
  ];
  for (const [hostname, provider_id, country, purpose, status, addrs, price, currency, billing_cycle, expires, tags] of fleet) {
    await api('POST', '/api/vps', {
      hostname,
      provider_id,
      country,
      purpose,
      status,
      ip_addresses: addrs.map(([ip, label]) => ({ ip, label })),
      price,
      currency,
      billing_cycle,
      expire_date: day(expires),
      purchase_date: day(expires - 30),
      tags,
      cpu_cores: 2,
      ram_mb: 2048,
      disk_gb: 40,
    });
  }
}
