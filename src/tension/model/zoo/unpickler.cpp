#include "tension/model/zoo/unpickler.h"

#include <caffe2/serialize/inline_container.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "tension/core/error.h"

namespace tension::model {

namespace {

// The Python values a state dict's pickle builds.
struct Value;
using ValuePtr = std::shared_ptr<Value>;
struct Value {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Tensor };
  Kind kind = Kind::None;
  int64_t i = 0;                                       // Bool, Int
  double f = 0;                                        // Float
  std::string s;                                       // String; Global as "module.name"
  std::vector<ValuePtr> items;                         // Tuple, List
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;  // Dict, in insertion order
  torch::Tensor tensor;                                // Tensor
};

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::Tuple: return "tuple";
    case Value::Kind::List: return "list";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Global: return "class or function";
    case Value::Kind::Tensor: return "tensor";
  }
  return "value";
}

ValuePtr make(Value::Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

// Python's legacy typed-storage names, which torch.save still writes for every tensor.
const std::map<std::string, torch::ScalarType>& storage_types() {
  static const std::map<std::string, torch::ScalarType> types = {
      {"torch.FloatStorage", torch::kFloat}, {"torch.DoubleStorage", torch::kDouble},
      {"torch.HalfStorage", torch::kHalf},   {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kLong},   {"torch.IntStorage", torch::kInt},
      {"torch.ShortStorage", torch::kShort}, {"torch.CharStorage", torch::kChar},
      {"torch.ByteStorage", torch::kByte},   {"torch.BoolStorage", torch::kBool},
  };
  return types;
}

// A pickle machine for the opcodes of protocols 2-5 that state dicts use; integers are read little-endian,
// as the format stores them (and as every platform LibTorch runs on is).
class Unpickler {
 public:
  Unpickler(caffe2::serialize::PyTorchStreamReader& archive, const std::string& path) : archive_(archive), path_(path) {
    std::tie(pickle_, size_) = archive_.getRecord("data.pkl");
    data_ = static_cast<const uint8_t*>(pickle_.get());
  }
  // Containers may hold themselves (through the memo) or nest as deep as the pickle is long: emptying each one
  // frees every value without leaking a cycle or recursing once per level. Values returned by run() are emptied
  // too, so the unpickler must outlive their use.
  ~Unpickler() {
    for (const auto& c : containers_) {
      c->items.clear();
      c->entries.clear();
    }
  }
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  ValuePtr run() {
    using K = Value::Kind;
    for (;;) {
      uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;                               // PROTO
        case 0x95: read<uint64_t>(); break;                     // FRAME
        case '.': return pop();                                 // STOP
        case '(': marks_.push_back(stack_.size()); break;       // MARK
        case ')': push(container(K::Tuple)); break;             // EMPTY_TUPLE
        case ']': push(container(K::List)); break;              // EMPTY_LIST
        case '}': push(container(K::Dict)); break;              // EMPTY_DICT
        case 't': push(sequence(K::Tuple, pop_mark())); break;  // TUPLE
        case 0x85: push(sequence(K::Tuple, pop_n(1))); break;   // TUPLE1
        case 0x86: push(sequence(K::Tuple, pop_n(2))); break;   // TUPLE2
        case 0x87: push(sequence(K::Tuple, pop_n(3))); break;   // TUPLE3
        case 'l': push(sequence(K::List, pop_mark())); break;   // LIST
        case 'a': append(pop_n(1)); break;                      // APPEND
        case 'e': append(pop_mark()); break;                    // APPENDS
        case 'd': push(dict(pop_mark())); break;                // DICT
        case 's': set_items(pop_n(2)); break;                   // SETITEM
        case 'u': set_items(pop_mark()); break;                 // SETITEMS
        case 'N': push(make(K::None)); break;                          // NONE
        case 0x88: push(integer(1, K::Bool)); break;                   // NEWTRUE
        case 0x89: push(integer(0, K::Bool)); break;                   // NEWFALSE
        case 'J': push(integer(read<int32_t>())); break;               // BININT
        case 'K': push(integer(byte())); break;                        // BININT1
        case 'M': push(integer(read<uint16_t>())); break;              // BININT2
        case 0x8a: push(integer(read_long(byte()))); break;            // LONG1
        case 0x8b: push(integer(read_long(read<uint32_t>()))); break;  // LONG4
        case 'G': push(floating()); break;                             // BINFLOAT
        case 'X': push(string(read_bytes(read<uint32_t>()))); break;   // BINUNICODE
        case 0x8c: push(string(read_bytes(byte()))); break;            // SHORT_BINUNICODE
        case 0x8d: push(string(read_bytes(read<uint64_t>()))); break;  // BINUNICODE8
        case 'c': push(global(read_global_name())); break;             // GLOBAL
        case 0x93: push(stack_global(pop_n(2))); break;                // STACK_GLOBAL
        case 'q': memo_[byte()] = peek(); break;                       // BINPUT
        case 'r': memo_[read<uint32_t>()] = peek(); break;             // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = peek(); break;                // MEMOIZE
        case 'h': push(memo(byte())); break;                           // BINGET
        case 'j': push(memo(read<uint32_t>())); break;                 // LONG_BINGET
        case 'R': push(reduce(pop_n(2))); break;                       // REDUCE
        case 'b': build(pop_n(1)); break;                              // BUILD
        case 'Q': push(persistent_load(*pop())); break;                // BINPERSID
        case '0': pop(); break;                                        // POP
        case '1': pop_mark(); break;                                   // POP_MARK
        case '2': push(peek()); break;                                 // DUP
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          fail(std::string("unsupported pickle opcode ") + hex);
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const { throw Error("weights file " + path_ + ": " + msg); }

  void need(size_t n) const {
    if (n > size_ - pos_) fail("data.pkl is truncated");
  }
  uint8_t byte() {
    need(1);
    return data_[pos_++];
  }
  template <typename T>
  T read() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_bytes(size_t n) {
    need(n);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  std::string read_line() {
    const void* nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
    if (!nl) fail("data.pkl is truncated");
    size_t n = static_cast<const uint8_t*>(nl) - (data_ + pos_);
    std::string s = read_bytes(n);
    ++pos_;
    return s;
  }
  // Little-endian two's complement of n bytes.
  int64_t read_long(size_t n) {
    if (n > 8) fail("integer too large");
    uint64_t u = 0;
    for (size_t k = 0; k < n; ++k) u |= static_cast<uint64_t>(byte()) << (8 * k);
    if (n > 0 && n < 8 && (u >> (8 * n - 1)) & 1) u |= ~uint64_t{0} << (8 * n);
    return static_cast<int64_t>(u);
  }

  static ValuePtr integer(int64_t i, Value::Kind kind = Value::Kind::Int) {
    auto v = make(kind);
    v->i = i;
    return v;
  }
  ValuePtr floating() {  // BINFLOAT is big-endian
    uint8_t b[8];
    for (int k = 7; k >= 0; --k) b[k] = byte();
    auto v = make(Value::Kind::Float);
    std::memcpy(&v->f, b, 8);
    return v;
  }
  static ValuePtr string(std::string s) {
    auto v = make(Value::Kind::String);
    v->s = std::move(s);
    return v;
  }
  static ValuePtr global(std::string name) {
    auto v = make(Value::Kind::Global);
    v->s = std::move(name);
    return v;
  }
  ValuePtr container(Value::Kind kind) {
    containers_.push_back(make(kind));
    return containers_.back();
  }
  ValuePtr sequence(Value::Kind kind, std::vector<ValuePtr> items) {
    auto v = container(kind);
    v->items = std::move(items);
    return v;
  }
  static ValuePtr tensor(torch::Tensor t) {
    auto v = make(Value::Kind::Tensor);
    v->tensor = std::move(t);
    return v;
  }

  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr pop() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("malformed pickle (stack underflow)");
    auto v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  std::vector<ValuePtr> pop_n(size_t n) {
    if (stack_.size() < n) fail("malformed pickle (stack underflow)");
    std::vector<ValuePtr> items(stack_.end() - n, stack_.end());
    stack_.resize(stack_.size() - n);
    return items;
  }
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) fail("malformed pickle (no mark)");
    size_t start = marks_.back();
    marks_.pop_back();
    return pop_n(stack_.size() - start);
  }
  const ValuePtr& peek() const {
    if (stack_.empty()) fail("malformed pickle (empty stack)");
    return stack_.back();
  }
  ValuePtr top(Value::Kind kind) const {
    const auto& v = peek();
    if (v->kind != kind) fail(std::string("expected a ") + kind_name(kind) + ", found a " + kind_name(v->kind));
    return v;
  }
  ValuePtr memo(uint32_t index) const {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("malformed pickle (unknown memo entry)");
    return it->second;
  }

  void add_entries(Value& dict, const std::vector<ValuePtr>& kv) const {
    if (kv.size() % 2) fail("malformed pickle (odd dict items)");
    for (size_t k = 0; k < kv.size(); k += 2) dict.entries.emplace_back(kv[k], kv[k + 1]);
  }
  // The opcodes' operands are popped before these run, so top() is the container they fill.
  void set_items(const std::vector<ValuePtr>& kv) { add_entries(*top(Value::Kind::Dict), kv); }
  ValuePtr dict(const std::vector<ValuePtr>& kv) {
    auto d = container(Value::Kind::Dict);
    add_entries(*d, kv);
    return d;
  }
  void append(const std::vector<ValuePtr>& items) {
    auto& list = top(Value::Kind::List)->items;
    list.insert(list.end(), items.begin(), items.end());
  }
  std::string read_global_name() {
    std::string module = read_line();
    return module + "." + read_line();
  }
  static ValuePtr stack_global(const std::vector<ValuePtr>& module_name) {
    return global(module_name[0]->s + "." + module_name[1]->s);
  }

  std::vector<int64_t> ints(const Value& tuple) const {
    if (tuple.kind != Value::Kind::Tuple) fail("tensor sizes are not a tuple");
    std::vector<int64_t> out;
    for (const auto& v : tuple.items) {
      if (v->kind != Value::Kind::Int) fail("tensor sizes are not integers");
      out.push_back(v->i);
    }
    return out;
  }

  // The callables a state dict's pickle calls, given (callable, arguments); anything else would run Python.
  ValuePtr reduce(const std::vector<ValuePtr>& call) {
    const Value &fn = *call[0], &args = *call[1];
    if (fn.kind != Value::Kind::Global || args.kind != Value::Kind::Tuple) fail("malformed pickle (bad REDUCE)");
    const auto& a = args.items;
    if (fn.s == "collections.OrderedDict" && a.empty()) return container(Value::Kind::Dict);
    if ((fn.s == "torch._utils._rebuild_tensor_v2" || fn.s == "torch._utils._rebuild_tensor") && a.size() >= 4 &&
        a[0]->kind == Value::Kind::Tensor && a[1]->kind == Value::Kind::Int) {
      return tensor(a[0]->tensor.as_strided(ints(*a[2]), ints(*a[3]), a[1]->i));
    }
    if ((fn.s == "torch._utils._rebuild_parameter" || fn.s == "torch.jit._pickle.restore_type_tag") && !a.empty()) {
      return a[0];  // a Parameter's data; torch::pickle_save's type-tagged dict
    }
    fail("holds an object of type " + fn.s + ", not a dict of tensors");
  }

  // Sets an object's attributes: those of an OrderedDict (a state dict's _metadata) and of a tensor are not
  // needed, and nothing else may be built.
  void build(const std::vector<ValuePtr>& /*state*/) const {
    const auto& obj = peek();
    if (obj->kind != Value::Kind::Dict && obj->kind != Value::Kind::Tensor) fail("malformed pickle (bad BUILD)");
  }

  // ('storage', torch.<Type>Storage, key, location, numel): the record data/<key>, read onto the CPU.
  ValuePtr persistent_load(const Value& pid) {
    const auto& p = pid.items;
    if (pid.kind != Value::Kind::Tuple || p.size() < 5 || p[0]->s != "storage" || p[1]->kind != Value::Kind::Global ||
        p[2]->kind != Value::Kind::String || p[4]->kind != Value::Kind::Int) {
      fail("malformed pickle (unknown persistent id)");
    }
    auto type = storage_types().find(p[1]->s);
    if (type == storage_types().end()) fail("unsupported storage type " + p[1]->s);
    const std::string& key = p[2]->s;
    auto cached = storages_.find(key);
    if (cached != storages_.end()) return tensor(cached->second);
    int64_t numel = p[4]->i;
    if (numel < 0) fail("storage " + key + " has a negative size");
    auto options = torch::TensorOptions().dtype(type->second);
    torch::Tensor storage;
    if (numel == 0) {
      storage = torch::empty({0}, options);
    } else {
      auto [ptr, bytes] = archive_.getRecord("data/" + key);
      // Divided, not multiplied: a huge numel must not wrap around to a size the record seems to hold.
      if (static_cast<uint64_t>(numel) > bytes / c10::elementSize(type->second)) fail("storage " + key + " is truncated");
      // The tensor keeps the record's buffer alive: no copy of what may be hundreds of megabytes.
      auto buffer = std::make_shared<at::DataPtr>(std::move(ptr));
      auto keep_alive = [buffer](void*) {};
      storage = torch::from_blob(buffer->get(), {numel}, keep_alive, options);
    }
    storages_.emplace(key, storage);
    return tensor(storage);
  }

  caffe2::serialize::PyTorchStreamReader& archive_;
  std::string path_;
  at::DataPtr pickle_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0, pos_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::map<uint32_t, ValuePtr> memo_;
  std::map<std::string, torch::Tensor> storages_;
  std::vector<ValuePtr> containers_;  // every tuple, list and dict made, emptied by the destructor
};

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

TensorDict read_tensor_dict(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::exists(path)) throw Error("weights file not found: " + path);
  if (!fs::is_regular_file(path)) throw Error("weights file " + path + " is not a regular file");
  TensorDict out;
  try {
    caffe2::serialize::PyTorchStreamReader archive(path);
    Unpickler unpickler(archive, path);
    ValuePtr root = unpickler.run();
    if (root->kind != Value::Kind::Dict) {
      throw Error("weights file " + path + " holds a " + kind_name(root->kind) + ", not a dict of tensors");
    }
    for (const auto& [k, v] : root->entries) {
      if (k->kind != Value::Kind::String) throw Error("weights file " + path + " has a non-string key");
      if (v->kind != Value::Kind::Tensor) {
        throw Error("weights file " + path + ": entry '" + k->s + "' is a " + kind_name(v->kind) + ", not a tensor");
      }
      out.emplace_back(k->s, v->tensor);
    }
  } catch (const c10::Error& e) {
    throw Error("weights file " + path +
                " cannot be read as a torch.save archive: " + first_line(e.what_without_backtrace()));
  }
  return out;
}

}  // namespace tension::model
