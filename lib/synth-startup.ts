/**
 * What the CDK app sets before it loads aws-cdk-lib (imported first, for its side effects, by
 * bin/xspot-cdk.ts): V8 flags for the template validation engine, then the compile cache (which V8
 * keys by those flags, so it comes after them).
 */
import * as v8 from 'node:v8';
import { enableCompileCache } from './compile-cache';

// aws-cdk-lib checks the templates with a WebAssembly engine (about 9 MB) that runs once per synth.
// By default V8 also recompiles its hot functions with the optimizing compiler on background threads,
// and the process waits for that work before it exits: seconds of CPU that this one run never uses.
// The baseline compiler's code runs the same checks with the same results. Set before the engine loads.
v8.setFlagsFromString('--no-wasm-tier-up');
v8.setFlagsFromString('--no-wasm-dynamic-tiering');

enableCompileCache();
