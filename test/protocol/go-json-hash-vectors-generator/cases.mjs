const row = (o) => o;
const R = (schema, table, key, op, rv, payloadText) =>
  `{"schema":${JSON.stringify(schema)},"table":${JSON.stringify(table)},"key":${key},"op":"${op}","row_version":${rv}${payloadText === undefined ? '' : `,"payload":${payloadText}`}}`;
const cases = [
  [
    'single insert, plain values',
    [R('business', 'users', '{"id":"u1"}', 'INSERT', 1, '{"id":"u1","name":"Ann","age":42,"score":0.5,"active":true,"note":null}')],
  ],
  [
    'html-sensitive characters & < > in text and keys',
    [R('business', 'posts', '{"id":"p&1"}', 'UPDATE', 7, '{"id":"p&1","title":"a & b < c > d","<k>":"&amp;"}')],
  ],
  [
    'U+2028 and U+2029 line separators',
    [R('business', 'posts', '{"id":"p2"}', 'INSERT', 1, '{"id":"p2","body":"line\\u2028sep\\u2029para","raw":"\u2028\u2029"}')],
  ],
  [
    'control characters and short escapes',
    [R('business', 'posts', '{"id":"p3"}', 'INSERT', 1, '{"id":"p3","body":"\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\\u007f\\"\\\\/end"}')],
  ],
  [
    'non-BMP and BMP characters above U+E000',
    [R('business', 'posts', '{"id":"p4"}', 'INSERT', 1, '{"id":"p4","emoji":"😀 𝄞","pua":"\uE000\uFFFD","\uFF21":1,"😀":2,"é":3}')],
  ],
  [
    'lone surrogates',
    [R('business', 'posts', '{"id":"p5"}', 'INSERT', 1, '{"id":"p5","hi":"a\\ud800b","lo":"\\udc00","pair":"\\ud83d\\ude00"}')],
  ],
  [
    'integers near and beyond 2^53',
    [
      R(
        'business',
        'nums',
        '{"id":"n1"}',
        'INSERT',
        3,
        '{"id":"n1","a":9007199254740991,"b":9007199254740992,"c":9007199254740993,"d":-9223372036854775808,"e":9223372036854775807,"f":123456789012345678}',
      ),
    ],
  ],
  [
    'floats: exponent thresholds, 0.1, -0',
    [
      R(
        'business',
        'nums',
        '{"id":"n2"}',
        'INSERT',
        1,
        '{"id":"n2","a":1e21,"b":1e20,"c":1e-7,"d":0.000001,"e":0.1,"f":-0,"g":-0.0,"h":1.5e-7,"i":123456.789,"j":5e-324,"k":1.7976931348623157e308,"l":100,"m":1.0,"n":-2.5e+22,"o":0.30000000000000004}',
      ),
    ],
  ],
  [
    'nested payload objects and arrays',
    [
      R(
        'business',
        'docs',
        '{"id":"d1"}',
        'INSERT',
        1,
        '{"id":"d1","meta":{"z":[1,2,{"b":true,"a":null}],"a":{"&":"<>"}},"tags":["x","y"],"empty":{},"none":[]}',
      ),
    ],
  ],
  [
    'delete with null payload',
    [R('business', 'users', '{"id":"u9"}', 'DELETE', 4, 'null'), R('business', 'users', '{"id":"u8"}', 'DELETE', 5)],
  ],
  [
    'BLOB-ish strings (hex and base64)',
    [
      R(
        'business',
        'files',
        '{"id":"0a1b2c3d4e5f60718293a4b5c6d7e8f9"}',
        'INSERT',
        1,
        '{"id":"0a1b2c3d4e5f60718293a4b5c6d7e8f9","data":"AAEC/w==","data_hex":"\\\\x0001ff","b64url":"+/+/="}',
      ),
    ],
  ],
  [
    'multi-row bundle in order with mixed ops',
    [
      R('business', 'users', '{"id":"u1"}', 'INSERT', 10, '{"id":"u1","name":"A"}'),
      R('business', 'posts', '{"id":"p1"}', 'UPDATE', 11, '{"id":"p1","author_id":"u1","n":12}'),
      R('business', 'posts', '{"id":"p0"}', 'DELETE', 12),
      R('other', 'x', '{"k":"1"}', 'INSERT', 13, '{"k":"1","v":-1.25}'),
    ],
  ],
  ['large row_version counter', [R('business', 'users', '{"id":"u1"}', 'UPDATE', 9007199254740993, '{"id":"u1"}')]],
  [
    'timestamps and numeric-looking strings stay strings',
    [R('business', 'ev', '{"id":"e1"}', 'INSERT', 1, '{"id":"e1","at":"2026-01-02T03:04:05.123456789Z","n":"42","r":"1e21"}')],
  ],
];
process.stdout.write(JSON.stringify(cases.map(([name, rows]) => ({ name, rows_json: `[${rows.join(',')}]` }))));
