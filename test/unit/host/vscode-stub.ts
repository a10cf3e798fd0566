// Makes `require('vscode')` resolve to the fake. Import this first in any test that loads modules
// importing `vscode` (the bundler keeps import order).
import Module from 'node:module';
import * as fake from './fakeVscode';

const M = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
const original = M._load;
M._load = function (request: string, parent: unknown, isMain: boolean): unknown {
  if (request === 'vscode') return fake;
  return original.call(this, request, parent, isMain);
};
export {};
