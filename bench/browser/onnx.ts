/**
 * A small ONNX writer: protobuf encoding of ModelProto with the few fields an inference graph needs
 * (nodes with int / ints / float attributes, float and int64 initializers as raw little-endian data,
 * typed inputs and outputs with static shapes), opset 17. Used to give ONNX Runtime Web the same
 * convolutions, products and whole networks as voxelgrad — built in the page from our shapes and our
 * weights, so the ORT peer is checked against the same numbers and no model file has to be committed
 * or regenerated (and no Python, no `onnx` package).
 * Field numbers: onnx/onnx.proto (ModelProto 1 ir_version, 7 graph, 8 opset_import; GraphProto 1 node,
 * 2 name, 5 initializer, 11 input, 12 output; NodeProto 1 input, 2 output, 3 name, 4 op_type,
 * 5 attribute; AttributeProto 1 name, 2 f, 3 i, 8 ints, 20 type; TensorProto 1 dims, 2 data_type,
 * 8 name, 9 raw_data; ValueInfoProto 1 name, 2 type; TypeProto 1 tensor_type; TypeProto.Tensor
 * 1 elem_type, 2 shape; TensorShapeProto 1 dim; Dimension 1 dim_value).
 */

class Writer {
  private chunks: number[] = [];
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      this.chunks.push(b);
    } while (x);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (let i = 0; i < b.length; i++) this.chunks.push(b[i]!);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, m: Writer): this {
    return this.bytes(field, m.finish());
  }
  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.chunks.push(x);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

export type Attr = number | number[] | { f: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
}

/** A graph under construction: nodes, initializers, one float input and named float outputs. */
export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: { name: string; dims: number[]; data: Float32Array | BigInt64Array }[] = [];
  readonly inputs: { name: string; dims: number[] }[] = [];
  readonly outputs: { name: string; dims: number[] }[] = [];
  private n = 0;

  input(name: string, dims: number[]): string {
    this.inputs.push({ name, dims });
    return name;
  }
  output(name: string, dims: number[]): void {
    this.outputs.push({ name, dims });
  }
  /** A float initializer (weights, constants). */
  init(name: string, dims: number[], data: Float32Array): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`onnx initializer ${name}: ${data.length} values for dims ${dims.join('×')}`);
    this.initializers.push({ name, dims, data });
    return name;
  }
  /** A scalar float constant. */
  scalar(v: number): string {
    return this.init(`c${this.n++}`, [], new Float32Array([v]));
  }
  /** An int64 vector constant (shapes, axes). */
  ints(v: number[]): string {
    const name = `i${this.n++}`;
    this.initializers.push({ name, dims: [v.length], data: BigInt64Array.from(v.map((x) => BigInt(x))) });
    return name;
  }
  /** Appends a node and returns its (first) output name. */
  op(op: string, inputs: string[], attrs?: Record<string, Attr>, out?: string): string {
    const o = out ?? `t${this.n++}`;
    this.nodes.push({ op, inputs, outputs: [o], ...(attrs ? { attrs } : {}) });
    return o;
  }

  /** The serialised ModelProto. */
  encode(): Uint8Array {
    const g = new Writer();
    for (const [i, nd] of this.nodes.entries()) {
      const m = new Writer();
      for (const x of nd.inputs) m.string(1, x);
      for (const x of nd.outputs) m.string(2, x);
      m.string(3, `n${i}`).string(4, nd.op);
      for (const [k, v] of Object.entries(nd.attrs ?? {})) {
        const a = new Writer().string(1, k);
        if (typeof v === 'number') a.int(3, v).int(20, 2);
        else if (Array.isArray(v)) {
          for (const x of v) a.int(8, x);
          a.int(20, 7);
        } else a.float(2, v.f).int(20, 1);
        m.message(5, a);
      }
      g.message(1, m);
    }
    g.string(2, 'voxelgrad');
    for (const t of this.initializers) {
      const m = new Writer();
      for (const d of t.dims) m.int(1, d);
      m.int(2, t.data instanceof BigInt64Array ? 7 : 1).string(8, t.name);
      m.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      g.message(5, m);
    }
    const valueInfo = (name: string, dims: number[]) => {
      const shape = new Writer();
      for (const d of dims) shape.message(1, new Writer().int(1, d));
      const tensor = new Writer().int(1, 1).message(2, shape);
      return new Writer().string(1, name).message(2, new Writer().message(1, tensor));
    };
    for (const x of this.inputs) g.message(11, valueInfo(x.name, x.dims));
    for (const x of this.outputs) g.message(12, valueInfo(x.name, x.dims));
    const model = new Writer().int(1, 8).string(2, 'voxelgrad-bench').message(7, g).message(8, new Writer().string(1, '').int(2, 17));
    return model.finish();
  }
}
