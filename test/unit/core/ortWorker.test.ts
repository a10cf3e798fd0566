// The worker-thread onnxruntime host on its own, against an in-thread session of the same graph.

import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { OrtWorker } from '../../../src/extension/core/ortWorker';
import { sessionOptions } from '../../../src/extension/core/providers';
import { BUILT_IN, hasRealModel } from './helpers';
import * as path from 'node:path';

describe('OrtWorker (onnxruntime in a worker thread)', function () {
  this.timeout(60_000);
  before(function () {
    if (!hasRealModel()) this.skip();
  });

  it('runs a session with the same outputs as one in this thread; errors come back as messages', async () => {
    const file = path.join(BUILT_IN, 'encoder.onnx');
    const exits: Error[] = [];
    const w = new OrtWorker((e) => exits.push(e));
    await w.create('encoder', file, sessionOptions('cpu', 1));
    const pixels = Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i / 97));
    const out = await w.run('encoder', { image: { type: 'float32', dims: [1, 3, 64, 64], data: pixels } });
    const local = await ort.InferenceSession.create(file, sessionOptions('cpu', 1));
    const want = await local.run({ image: new ort.Tensor('float32', pixels, [1, 3, 64, 64]) });
    await local.release();
    assert.deepEqual(out.indices.dims, want.indices.dims);
    assert.equal(out.indices.type, 'int64');
    assert.deepEqual([...(out.indices.data as BigInt64Array)], [...(want.indices.data as BigInt64Array)]);
    // the pixels were copied, not moved: the caller keeps its array
    assert.equal(pixels.length, 3 * 64 * 64);

    await assert.rejects(w.run('encoder', { wrong: { type: 'float32', dims: [1], data: new Float32Array(1) } }), /input|wrong/i);
    await assert.rejects(w.run('decoder', {}), /no session decoder in this worker/);
    await assert.rejects(w.create('broken', path.join(BUILT_IN, 'manifest.json'), sessionOptions('cpu', 1)), /protobuf|parsing|load/i);
    // data that cannot cross the thread boundary is refused at once
    await assert.rejects(w.run('encoder', { image: { type: 'float32', dims: [1], data: (() => undefined) as never } }), /could not be cloned/);
    // still serving after all of that
    const again = await w.run('encoder', { image: { type: 'float32', dims: [1, 3, 64, 64], data: pixels } });
    assert.deepEqual([...(again.indices.data as BigInt64Array)], [...(want.indices.data as BigInt64Array)]);

    // ended while a run is pending: the run fails, it does not hang
    const pending = w.run('encoder', { image: { type: 'float32', dims: [1, 3, 64, 64], data: pixels } });
    const ended = new OrtWorker((e) => exits.push(e));
    await ended.create('encoder', file, sessionOptions('cpu', 1));
    const inFlight = ended.run('encoder', { image: { type: 'float32', dims: [1, 3, 64, 64], data: pixels } });
    inFlight.catch(() => undefined); // rejected while terminate() is awaited
    await ended.terminate();
    await assert.rejects(inFlight, /onnxruntime worker thread terminated/);
    await pending;

    await w.release('encoder');
    await assert.rejects(w.run('encoder', { image: { type: 'float32', dims: [1, 3, 64, 64], data: pixels } }), /no session encoder/);
    await w.terminate();
    await assert.rejects(w.run('encoder', {}), /terminated/);
    assert.deepEqual(exits, [], 'an asked-for end is not reported as a crash');
  });
});
