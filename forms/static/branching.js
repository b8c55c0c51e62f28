/*
 * Branching logic in the browser: progressive enhancement only. The server decides what
 * is shown and stored (forms/builder.py); without this script every field shows and the
 * server ignores the answers of fields whose logic does not hold.
 *
 * Markup it reads: each field's wrapper carries data-field="<name>" and, when the field
 * has branching logic, data-branching='<forms.branching.to_json(expr)>'; the inputs are
 * named after their field (a checkbox field: one input per choice, its value the code).
 *
 * evaluate() and visibleFields() are line-by-line ports of evaluate() in
 * forms/branching.py and visible_fields() in forms/builder.py: numbers compare as numbers
 * when both sides are numbers, otherwise as text; an ordering with an empty side is false;
 * a checkbox choice reads "1" or "0"; a hidden field reads as empty. One difference: text
 * outside the Basic Multilingual Plane orders by UTF-16 unit here, by code point there.
 * Change both together: tests/forms/test_branching.py runs the same cases through each.
 *
 * Load it with <script src="…/branching.js" defer>. No eval and no inline code, so a
 * strict Content-Security-Policy allows it.
 */
(function () {
  "use strict";

  const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;
  const BLANK_ENDS = /^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g;
  const ORDERINGS = {
    ">": (order) => order > 0,
    "<": (order) => order < 0,
    ">=": (order) => order >= 0,
    "<=": (order) => order <= 0,
  };
  const EQUALITIES = {
    "=": (order) => order === 0,
    "<>": (order) => order !== 0,
    "!=": (order) => order !== 0,
  };

  function read(operand, values) {
    if ("value" in operand) return operand.value;
    const value = values.has(operand.field) ? values.get(operand.field) : "";
    if ("code" in operand) return value instanceof Set && value.has(operand.code) ? "1" : "0";
    return typeof value === "string" ? value : "";
  }

  function order(a, b) {
    let [x, y] = [a, b];
    if (NUMBER.test(a) && NUMBER.test(b)) [x, y] = [parseFloat(a), parseFloat(b)];
    return (x > y) - (x < y);
  }

  function compare(op, a, b) {
    [a, b] = [a.replace(BLANK_ENDS, ""), b.replace(BLANK_ENDS, "")];
    if (op in ORDERINGS) return a !== "" && b !== "" && ORDERINGS[op](order(a, b));
    return EQUALITIES[op](order(a, b));
  }

  function evaluate(expr, values) {
    if (expr.all) return expr.all.every((part) => evaluate(part, values));
    if (expr.any) return expr.any.some((part) => evaluate(part, values));
    return compare(expr.op, read(expr.left, values), read(expr.right, values));
  }

  function fieldNames(expr) {
    if (expr.all || expr.any) return (expr.all || expr.any).flatMap(fieldNames);
    return [expr.left, expr.right].filter((operand) => "field" in operand).map((o) => o.field);
  }

  // branchings: Map of field name to its logic (or null), in form order.
  function visibleFields(branchings, values) {
    const shown = new Map();
    function isShown(name) {
      if (!shown.has(name)) {
        const expr = branchings.get(name);
        shown.set(name, true); // no cycles: the dictionary parser refuses them
        if (expr) {
          const effective = new Map();
          for (const ref of fieldNames(expr)) {
            effective.set(ref, isShown(ref) && values.has(ref) ? values.get(ref) : "");
          }
          shown.set(name, evaluate(expr, effective));
        }
      }
      return shown.get(name);
    }
    return new Set([...branchings.keys()].filter(isShown));
  }

  function answers(form) {
    const values = new Map();
    for (const input of form.elements) {
      if (!input.name) continue;
      if (input.type === "checkbox") {
        if (!values.has(input.name)) values.set(input.name, new Set());
        if (input.checked) values.get(input.name).add(input.value);
      } else if (input.type === "radio") {
        if (input.checked || !values.has(input.name)) {
          values.set(input.name, input.checked ? input.value : "");
        }
      } else {
        values.set(input.name, input.value);
      }
    }
    return values;
  }

  function enhance(form) {
    const wrappers = form.querySelectorAll("[data-field]");
    const branchings = new Map();
    for (const wrapper of wrappers) {
      const logic = wrapper.getAttribute("data-branching");
      branchings.set(wrapper.getAttribute("data-field"), logic ? JSON.parse(logic) : null);
    }
    function update() {
      const shown = visibleFields(branchings, answers(form));
      for (const wrapper of wrappers) wrapper.hidden = !shown.has(wrapper.dataset.field);
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  if (typeof document !== "undefined") {
    const forms = new Set();
    for (const wrapper of document.querySelectorAll("[data-branching]")) {
      const form = wrapper.closest("form");
      if (form) forms.add(form);
    }
    forms.forEach(enhance);
  }
  if (typeof module !== "undefined") {
    module.exports = { evaluate, visibleFields }; // for the parity test under Node
  }
})();
