// Installs the packages that package-lock.json (lockfile version 2 or 3) lists into node_modules/
// of the current directory, with Node alone, so that the web test needs no npm (Debian's npm
// package brings some 350 packages):
//
//   node install_lockfile.mjs
//
// What `npm ci` does for this lockfile, and only that: each package's tarball is fetched from the
// registry ($npm_config_registry, or npmjs.org), checked against the lockfile's integrity hash and
// unpacked where the lockfile places it. No install scripts run and no bin links are made; the
// packages of tests/web need neither. Optional packages for another OS or CPU are left out.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
if (!(lock.lockfileVersion >= 2)) throw new Error('install_lockfile.mjs: package-lock.json must be of lockfile version 2 or 3');
const registry = (process.env.npm_config_registry || 'https://registry.npmjs.org/').replace(/\/?$/, '/');
const parallel = 8;

const fits = (list, value) => !list || (list.some((x) => !x.startsWith('!'))
  ? list.includes(value) : !list.includes(`!${value}`));
const packages = Object.entries(lock.packages).filter(([where, entry]) =>
  where !== '' && !entry.link && !entry.dev && fits(entry.os, process.platform) && fits(entry.cpu, process.arch));

/// The tarball's files: {name, mode, data} for each regular file, the first path component
/// ("package/") removed.
function untar(archive) {
  const files = [];
  const text = (offset, length) => archive.toString('utf8', offset, offset + length).replace(/\0.*$/s, '');
  let longName = null;
  for (let offset = 0; offset + 512 <= archive.length;) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;  // the end
    const size = parseInt(text(offset + 124, 12).trim() || '0', 8);
    const mode = parseInt(text(offset + 100, 8).trim() || '644', 8);
    const type = String.fromCharCode(header[156] || 48);
    const prefix = text(offset + 257, 6) === 'ustar' ? text(offset + 345, 155) : '';
    let name = longName ?? (prefix ? `${prefix}/${text(offset, 100)}` : text(offset, 100));
    longName = null;
    const data = archive.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {  // a pax header: its path, if any, names the next file
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1] ?? null;
    } else if (type === 'L') {  // a GNU long name
      longName = data.toString('utf8').replace(/\0.*$/s, '');
    } else if (type === '0' || type === '7') {
      name = name.split('/').slice(1).join('/');
      if (!name || name.split('/').includes('..') || path.isAbsolute(name)) throw new Error(`unsafe path in tarball: ${name}`);
      files.push({ name, mode, data });
    }
  }
  return files;
}

async function install([where, entry]) {
  const name = entry.name ?? where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const url = entry.resolved ?? `${registry}${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`install_lockfile.mjs: ${url}: HTTP ${response.status}`);
  const tarball = Buffer.from(await response.arrayBuffer());
  const integrity = (entry.integrity ?? '').split(/\s+/).filter(Boolean);
  if (!integrity.length) throw new Error(`install_lockfile.mjs: package-lock.json gives no integrity hash for ${where}`);
  const matches = integrity.some((hash) => {
    const [algorithm, digest] = [hash.slice(0, hash.indexOf('-')), hash.slice(hash.indexOf('-') + 1)];
    return crypto.createHash(algorithm).update(tarball).digest('base64') === digest;
  });
  if (!matches) throw new Error(`install_lockfile.mjs: ${url} does not match its integrity hash in package-lock.json`);
  for (const file of untar(zlib.gunzipSync(tarball))) {
    const target = path.join(where, file.name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.data, { mode: (file.mode & 0o777) | 0o644 });
  }
}

fs.rmSync('node_modules', { recursive: true, force: true });
const queue = [...packages];
await Promise.all(Array.from({ length: parallel }, async () => {
  while (queue.length) await install(queue.shift());
}));
console.log(`installed ${packages.length} packages from package-lock.json`);
