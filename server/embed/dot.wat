;; int8 dot products for the in-memory vector index (server/embed/dot.ts).
;; dots(q, base, n, d, out): for rows r < n of d int8 values at base + r*d (d a multiple of 16),
;; writes the i32 dot product with the int8 query at q to out + 4r. SIMD: 16 values per step,
;; sign-extended to i16 and multiplied pairwise into i32 lanes (i32x4.dot_i16x8_s).
;; hamming(q, base, n, w, out): for rows of w i64 words (sign bits), writes popcount(q xor row).
(module
  (memory (export "memory") 1)
  (func (export "dots") (param $q i32) (param $base i32) (param $n i32) (param $d i32) (param $out i32)
    (local $r i32) (local $i i32) (local $p i32) (local $acc v128) (local $a v128) (local $b v128)
    (local.set $p (local.get $base))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (block $end
          (loop $cols
            (br_if $end (i32.ge_u (local.get $i) (local.get $d)))
            (local.set $a (v128.load (i32.add (local.get $q) (local.get $i))))
            (local.set $b (v128.load (i32.add (local.get $p) (local.get $i))))
            (local.set $acc (i32x4.add (local.get $acc)
              (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $a)) (i16x8.extend_low_i8x16_s (local.get $b)))))
            (local.set $acc (i32x4.add (local.get $acc)
              (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $a)) (i16x8.extend_high_i8x16_s (local.get $b)))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $cols)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
            (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
        (local.set $p (i32.add (local.get $p) (local.get $d)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))
  (func (export "hamming") (param $q i32) (param $base i32) (param $n i32) (param $w i32) (param $out i32)
    (local $r i32) (local $i i32) (local $p i32) (local $acc i64) (local $bytes i32)
    (local.set $p (local.get $base))
    (local.set $bytes (i32.shl (local.get $w) (i32.const 3)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $acc (i64.const 0))
        (local.set $i (i32.const 0))
        (block $end
          (loop $words
            (br_if $end (i32.ge_u (local.get $i) (local.get $bytes)))
            (local.set $acc (i64.add (local.get $acc)
              (i64.popcnt (i64.xor (i64.load (i32.add (local.get $q) (local.get $i))) (i64.load (i32.add (local.get $p) (local.get $i)))))))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (br $words)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (i32.wrap_i64 (local.get $acc)))
        (local.set $p (i32.add (local.get $p) (local.get $bytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))))
